// Builds the extension host bundle (Node, CommonJS) and one browser bundle per webview panel.
import { build, context } from "esbuild";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

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
    // decoderWorker: the student's decoder in a worker thread (src/core/inference/workerDecoder.ts
    // starts dist/decoderWorker.js from beside the bundle).
    entryPoints: { extension: "src/extension.ts", cli: "src/cli.ts", decoderWorker: "src/core/inference/decoderWorker.ts" },
    outdir: "dist",
    platform: "node",
    target: "node20",
    format: "cjs",
    external: nodeExternals,
    // web-tree-sitter's ESM build calls createRequire(import.meta.url), which is empty in a
    // CommonJS bundle: give it the bundle's own URL.
    define: { "import.meta.url": "__importMetaUrl" },
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
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

// The Python grammar and the tree-sitter runtime are WebAssembly files loaded at run time from
// beside the bundle (src/core/datasets/pythonSyntax.ts).
const require = createRequire(import.meta.url);
for (const wasm of ["web-tree-sitter/tree-sitter.wasm", "tree-sitter-python/tree-sitter-python.wasm"]) {
  copyFileSync(require.resolve(wasm), join("dist", wasm.split("/").pop()));
}

// The experiment's HTML report inlines Chart.js's UMD build, read from beside the bundle
// (src/core/experiment/reportRender.ts). chart.js's "exports" hides dist/chart.umd.js from
// require.resolve, so it is found beside the package's main file (dist/chart.cjs).
copyFileSync(join(dirname(require.resolve("chart.js")), "chart.umd.js"), join("dist", "chart.umd.js"));

if (watch) {
  const contexts = await Promise.all(configs.map((c) => context(c)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(configs.map((c) => build(c)));
  chmodSync("dist/cli.js", 0o755);
}
