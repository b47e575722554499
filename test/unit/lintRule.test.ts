import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ESLint } from "eslint";
import { REPO } from "./helpers";

const IMPORT_VSCODE = 'import * as vscode from "vscode";\nexport const x = vscode;\n';

async function restrictedImportErrors(filePath: string): Promise<number> {
  const eslint = new ESLint({ cwd: REPO });
  const [result] = await eslint.lintText(IMPORT_VSCODE, { filePath: `${REPO}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").length;
}

describe("only host files may import vscode (eslint)", () => {
  for (const file of ["src/core/datasets/loader.ts", "src/sidecar/client.ts", "webview/sidecarStatus/view.ts", "src/panels/sidecarStatus/protocol.ts"]) {
    it(`forbids it in ${file}`, async () => assert.equal(await restrictedImportErrors(file), 1));
  }
  for (const file of ["src/extension.ts", "src/commands.ts", "src/workspace.ts", "src/editor/taskEditor.ts", "src/panels/sidecarStatus/Panel.ts", "src/views/statusBar.ts"]) {
    it(`allows it in ${file}`, async () => assert.equal(await restrictedImportErrors(file), 0));
  }
});
