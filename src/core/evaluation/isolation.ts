// The sandbox's isolation as the sidecar names it (sidecar/src/codistill/execution/isolation.py):
// "landlock-v7+userns+netns+pidns", "rlimits-only", ... Pure; the same levels as the sidecar's.
import type { IsolationLevel } from "../../sidecar/protocol";

/**
 * full: files (Landlock), network (a network namespace) and processes (a PID namespace) are all
 * kept in; none: only the resource limits; partial: the rest.
 */
export function isolationLevel(name: string): IsolationLevel {
  const parts = new Set(name.split("+"));
  const files = [...parts].some((part) => part.startsWith("landlock-v"));
  if (files && parts.has("netns") && parts.has("pidns")) return "full";
  return name === "rlimits-only" ? "none" : "partial";
}
