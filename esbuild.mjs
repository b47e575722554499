// Builds the extension host bundle (Node, CommonJS) and one browser bundle per webview panel.
import { build, context } from "esbuild";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");

// Native modules cannot be bundled: they ship in node_modules inside the VSIX.
const nodeExternals = ["vscode", "onnxruntime-node"];

const panels = readdirSync("webview").filter(
  (name) => name !== "shared" && statSync(join("webview", name)).isDirectory(),
);

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: "info" };

const configs = [
  {
    ...common,
    entryPoints: { extension: "src/extension.ts" },
    outdir: "dist",
    platform: "node",
    target: "node20",
    format: "cjs",
    external: nodeExternals,
  },
  {
    ...common,
    entryPoints: Object.fromEntries(panels.map((name) => [name, `webview/${name}/main.ts`])),
    outdir: "dist/webview",
    platform: "browser",
    target: "es2022",
    format: "esm",
  },
];

// The repository is an ES module package; this marks the host bundle as CommonJS, which is
// what VS Code 1.100 loads.
mkdirSync("dist", { recursive: true });
writeFileSync("dist/package.json", JSON.stringify({ type: "commonjs" }) + "\n");

if (watch) {
  const contexts = await Promise.all(configs.map((c) => context(c)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(configs.map((c) => build(c)));
}
