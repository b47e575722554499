// The draggable divider between the task list and the details, like VS Code's sashes.
const MIN_WIDTH = 220;
const STEP = 24;

export class Sash {
  readonly element: HTMLElement;

  constructor(
    private readonly left: HTMLElement,
    private readonly onResize: (width: number) => void,
  ) {
    const sash = document.createElement("div");
    sash.className = "dsb-sash";
    sash.tabIndex = 0;
    sash.setAttribute("role", "separator");
    sash.setAttribute("aria-orientation", "vertical");
    sash.setAttribute("aria-label", "Resize the task list");
    sash.dataset.testid = "sash";
    this.element = sash;

    sash.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      sash.setPointerCapture(e.pointerId);
      sash.classList.add("dsb-sash-active");
      const startX = e.clientX;
      const startWidth = this.left.getBoundingClientRect().width;
      const move = (ev: PointerEvent) => this.setWidth(startWidth + ev.clientX - startX);
      const up = () => {
        sash.classList.remove("dsb-sash-active");
        sash.removeEventListener("pointermove", move);
        sash.removeEventListener("pointerup", up);
        sash.removeEventListener("pointercancel", up);
        this.onResize(this.left.getBoundingClientRect().width);
      };
      sash.addEventListener("pointermove", move);
      sash.addEventListener("pointerup", up);
      sash.addEventListener("pointercancel", up);
    });
    sash.addEventListener("keydown", (e) => {
      const delta = e.key === "ArrowLeft" ? -STEP : e.key === "ArrowRight" ? STEP : 0;
      if (!delta) return;
      e.preventDefault();
      this.setWidth(this.left.getBoundingClientRect().width + delta);
      this.onResize(this.left.getBoundingClientRect().width);
    });
  }

  /** Width of the list column; kept between MIN_WIDTH and most of the window. */
  setWidth(width: number): void {
    const max = Math.max(MIN_WIDTH, window.innerWidth - 280);
    const clamped = Math.round(Math.min(max, Math.max(MIN_WIDTH, width)));
    document.body.style.setProperty("--dsb-list-width", `${clamped}px`);
    this.element.setAttribute("aria-valuenow", String(clamped));
  }
}
