// The webview end of a panel's message protocol (see src/panels/shared/messages.ts).
import type { PanelResponse } from "../../src/panels/shared/messages";

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

type Listener = (params: unknown) => void;

export class HostConnection<S> {
  private readonly api = acquireVsCodeApi<S>();
  private readonly listeners = new Map<string, Listener>();
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;

  constructor() {
    window.addEventListener("message", (event: MessageEvent) => this.receive(event.data));
  }

  /** Persisted by VS Code across hide/show and reloads. */
  get state(): S | undefined {
    return this.api.getState();
  }

  set state(value: S) {
    this.api.setState(value);
  }

  notify(method: string, params?: unknown): void {
    this.api.postMessage({ method, params });
  }

  request(method: string, params?: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.api.postMessage({ id, method, params });
    });
  }

  on(method: string, listener: Listener): void {
    this.listeners.set(method, listener);
  }

  private receive(data: unknown): void {
    if (typeof data !== "object" || data === null) return;
    const message = data as Record<string, unknown>;
    if (typeof message.method === "string") {
      this.listeners.get(message.method)?.(message.params);
      return;
    }
    const response = message as unknown as PanelResponse;
    const waiter = this.waiting.get(response.id);
    if (!waiter) return;
    this.waiting.delete(response.id);
    if (response.error !== undefined) waiter.reject(new Error(response.error));
    else waiter.resolve(response.result);
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
