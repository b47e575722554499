// Messages between the "Sidecar Status" webview and the extension host.
import type { SandboxStatusResult } from "../../sidecar/protocol";
import type { SidecarSnapshot } from "../../sidecar/supervisor";
import { noParams, type NoParams, type ParamsValidators } from "../shared/messages";

export const PANEL_ID = "codistill.sidecarStatus";
export const PANEL_TITLE = "Codistill Sidecar";

/** The sandbox's isolation (sandbox/status), or why it could not be asked. */
export type SandboxView = SandboxStatusResult | { error: string };

/** What the webview shows: the supervisor's snapshot, made JSON-safe. */
export type SidecarStatusView = SidecarSnapshot & {
  interpreter: string | undefined;
  /** Null until the sidecar is ready and has answered. */
  sandbox: SandboxView | null;
};

/** Webview -> host. */
export interface SidecarStatusToHost {
  "sidecarStatus/ready": NoParams;
  "sidecarStatus/restart": NoParams;
  "sidecarStatus/showLog": NoParams;
  "sidecarStatus/setUpPython": NoParams;
}

/** What the host answers to the webview's requests. */
export interface SidecarStatusReplies {
  /** Answered once the sidecar has restarted (or failed to). */
  "sidecarStatus/restart": void;
}

/** Host -> webview notifications. */
export interface SidecarStatusToWebview {
  "sidecarStatus/state": SidecarStatusView;
}

export const sidecarStatusValidators: ParamsValidators<SidecarStatusToHost> = {
  "sidecarStatus/ready": noParams,
  "sidecarStatus/restart": noParams,
  "sidecarStatus/showLog": noParams,
  "sidecarStatus/setUpPython": noParams,
};
