#!/usr/bin/env node
// The headless CLI (`npx codistill ...`, dist/cli.js); also runs from source with
// `node --import tsx src/cli.ts ...`.
import { main } from "./core/cli/main";

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`codistill: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
