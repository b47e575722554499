import tseslint from "typescript-eslint";

// DESIGN.md: only host files import `vscode`; core, sidecar client and webviews stay testable in plain Node.
const hostFiles = ["src/extension.ts", "src/context.ts", "src/commands.ts", "src/datasetCommands.ts", "src/config.ts", "src/workspace.ts", "src/editor/**", "src/panels/**", "src/views/**", "src/diagnostics/**", "src/reasoning/**", "src/generation/**", "src/experiment/**"];
const protocolFiles = ["src/panels/*/protocol.ts", "src/panels/shared/messages.ts"];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".cache/**", ".venv/**", "sidecar/**", "out/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "vscode", message: "Only host files (see DESIGN.md) may import vscode; put pure logic in src/core or src/sidecar." }] },
      ],
    },
  },
  {
    files: hostFiles,
    ignores: protocolFiles,
    rules: { "no-restricted-imports": "off" },
  },
);
