// `npm run package`: a production build and a VSIX for linux-x64 that carries only this
// platform's onnxruntime-node binaries (the npm package holds every platform's, ~290 MB).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO, VSIX, run } from "./lib.mjs";

const target = process.env.CODISTILL_VSIX_TARGET ?? "linux-x64";
mkdirSync(join(REPO, "dist"), { recursive: true });
run(process.execPath, ["esbuild.mjs", "--production"]);
run(join(REPO, "node_modules", ".bin", "vsce"), [
  "package",
  "--target", target,
  // The extension is bundled; .vscodeignore lets only the native runtime in from node_modules.
  "--allow-missing-repository",
  "--out", target === "linux-x64" ? VSIX : join(REPO, "dist", `codistill-${target}.vsix`),
]);
