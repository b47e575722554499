// Per-function structural comparison behind the inline diagnostics (DESIGN.md, core/structure).
export { DEFAULT_THRESHOLDS, loadStructureComparer } from "./compare";
export type { Finding, Severity, StructureComparer, StructureComparerOptions, StructureReport, StructureThresholds, UnitComparison } from "./compare";
export type { Position, Span } from "./units";
