// The webview end of a panel's message protocol (see src/panels/shared/messages.ts), typed by
// the panel's maps: a wrong method or params shape does not compile.
import type { PanelMessage, PanelResponse, ParamsArg, RepliesOf } from "../../src/panels/shared/messages";

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

type Listeners<ToWebview> = { [M in keyof ToWebview]?: (params: ToWebview[M]) => void };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The one place where what the host posts becomes typed. A webview receives messages only from
 * its own PanelChannel, which sends them typed by the same maps (`notify`, and the handlers'
 * results as replies), so the webview trusts their params instead of validating them again.
 */
function sentByOwnHost<T>(_value: unknown): _value is T {
  return true;
}

export class HostConnection<State, ToHost, ToWebview, Replies extends RepliesOf<ToHost, Replies>> {
  private readonly api = acquireVsCodeApi<State>();
  private readonly listeners: Listeners<ToWebview> = {};
  private readonly waiting = new Map<number, (response: PanelResponse) => void>();
  private nextId = 1;

  constructor() {
    window.addEventListener("message", (event: MessageEvent) => this.receive(event.data));
  }

  /** Persisted by VS Code across hide/show and reloads. */
  get state(): State | undefined {
    return this.api.getState();
  }

  set state(value: State) {
    this.api.setState(value);
  }

  notify<M extends keyof ToHost & string>(method: M, ...[params]: ParamsArg<ToHost[M]>): void {
    this.api.postMessage({ method, params });
  }

  /** Resolves with the host's reply; rejects with the error its handler threw. */
  request<M extends keyof Replies & keyof ToHost & string>(method: M, ...[params]: ParamsArg<ToHost[M]>): Promise<Replies[M]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (response) => {
        if (response.error !== undefined) reject(new Error(response.error));
        else if (sentByOwnHost<Replies[M]>(response.result)) resolve(response.result);
      });
      this.api.postMessage({ id, method, params });
    });
  }

  on<M extends keyof ToWebview & string>(method: M, listener: (params: ToWebview[M]) => void): void {
    this.listeners[method] = listener;
  }

  private receive(data: unknown): void {
    if (!isObject(data)) return;
    if (typeof data.method === "string") {
      if (sentByOwnHost<PanelMessage<ToWebview>>(data)) this.deliver(data);
      return;
    }
    if (typeof data.id !== "number") return;
    const waiter = this.waiting.get(data.id);
    if (!waiter) return;
    this.waiting.delete(data.id);
    waiter({ id: data.id, result: data.result, ...(typeof data.error === "string" ? { error: data.error } : {}) });
  }

  private deliver<M extends keyof ToWebview & string>(message: { method: M; params: ToWebview[M] }): void {
    this.listeners[message.method]?.(message.params);
  }
}

/** Draws a panel; one that fails to draw says why, instead of staying blank. */
export function renderOrExplain(app: HTMLElement, panel: string, render: () => void): void {
  try {
    render();
  } catch (err) {
    app.replaceChildren(el("p", { className: "callout error", testId: "render-error", text: `The ${panel} panel could not draw its state: ${(err as Error).stack ?? String(err)}` }));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { className?: string; id?: string; text?: string; testId?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs.className) node.className = attrs.className;
  if (attrs.id) node.id = attrs.id;
  if (attrs.text !== undefined) node.textContent = attrs.text;
  if (attrs.testId) node.dataset.testid = attrs.testId;
  node.append(...children);
  return node;
}
