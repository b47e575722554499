// The one place that touches @vscode/webview-ui-toolkit. The toolkit is archived upstream;
// swapping it for another component set must stay a change to this folder only.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeTextField,
} from "@vscode/webview-ui-toolkit";

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDataGrid(),
    vsCodeDataGridCell(),
    vsCodeDataGridRow(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeProgressRing(),
    vsCodeTextField(),
  );
}

export type ButtonAppearance = "primary" | "secondary" | "icon";

export function button(label: string, onClick: () => void, appearance: ButtonAppearance = "primary"): HTMLElement {
  const el = document.createElement("vscode-button");
  el.setAttribute("appearance", appearance);
  el.textContent = label;
  el.addEventListener("click", onClick);
  return el;
}

/**
 * A labelled checkbox. `label` may hold markup (a count beside the text); `ariaLabel` names it
 * for screen readers (the toolkit would set aria-label to the text content when it connects).
 */
export function checkbox(label: Node | string, checked: boolean, onChange: (checked: boolean) => void, ariaLabel?: string): HTMLElement & { checked: boolean } {
  const el = document.createElement("vscode-checkbox") as HTMLElement & { checked: boolean };
  el.append(label);
  el.checked = checked;
  el.addEventListener("change", () => onChange(el.checked));
  if (ariaLabel) {
    el.setAttribute("aria-label", ariaLabel);
    new MutationObserver(() => {
      if (el.getAttribute("aria-label") !== ariaLabel) el.setAttribute("aria-label", ariaLabel);
    }).observe(el, { attributes: true, attributeFilter: ["aria-label"] });
  }
  return el;
}

export function divider(): HTMLElement {
  return document.createElement("vscode-divider");
}

/** A two-or-more-column grid; cells are plain text so screen readers and tests can read them. */
export function dataGrid(headers: string[], rows: string[][], label: string): HTMLElement {
  const grid = document.createElement("vscode-data-grid");
  grid.setAttribute("aria-label", label);
  grid.setAttribute("grid-template-columns", headers.map(() => "1fr").join(" "));
  grid.appendChild(gridRow(headers, "header"));
  for (const row of rows) grid.appendChild(gridRow(row));
  return grid;
}

function gridRow(cells: string[], kind?: "header"): HTMLElement {
  const row = document.createElement("vscode-data-grid-row");
  if (kind) row.setAttribute("row-type", kind);
  cells.forEach((text, i) => {
    const cell = document.createElement("vscode-data-grid-cell");
    cell.setAttribute("grid-column", String(i + 1));
    if (kind) cell.setAttribute("cell-type", "columnheader");
    cell.textContent = text;
    row.appendChild(cell);
  });
  return row;
}

/** A labelled text field; `onInput` gets the text as typed. */
export function textField(label: string, value: string, onInput: (value: string) => void, testId?: string): HTMLElement & { value: string } {
  const el = document.createElement("vscode-text-field") as HTMLElement & { value: string };
  el.textContent = label;
  el.setAttribute("value", value);
  el.value = value;
  if (testId) el.dataset.testid = testId;
  el.addEventListener("input", () => onInput(el.value));
  return el;
}

export function progressRing(): HTMLElement {
  return document.createElement("vscode-progress-ring");
}

/** A labelled dropdown of fixed choices. */
export function dropdown<T extends string>(label: string, options: readonly T[], value: T, onChange: (value: T) => void, testId?: string): HTMLElement {
  const wrapper = document.createElement("div");
  wrapper.className = "dropdown-field";
  const caption = document.createElement("label");
  caption.textContent = label;
  const el = document.createElement("vscode-dropdown") as HTMLElement & { value: string };
  el.setAttribute("aria-label", label);
  if (testId) el.dataset.testid = testId;
  for (const option of options) {
    const item = document.createElement("vscode-option") as HTMLElement & { selected: boolean };
    item.setAttribute("value", option);
    item.textContent = option;
    if (option === value) item.setAttribute("selected", "");
    el.appendChild(item);
  }
  el.addEventListener("change", () => {
    const chosen = options.find((option) => option === el.value);
    if (chosen !== undefined) onChange(chosen);
  });
  wrapper.append(caption, el);
  return wrapper;
}
