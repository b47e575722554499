// Runs the sidecar's pytest suite with the set-up venv. pytest exits 5 when it collects no
// tests; that is a failure for us only if tests were expected, so it is reported plainly.
import { VENV_PYTHON, exists, run } from "./lib.mjs";

if (!exists(VENV_PYTHON)) {
  console.error(`No venv at ${VENV_PYTHON}: run "npm run setup" first.`);
  process.exit(1);
}
const status = run(VENV_PYTHON, ["-m", "pytest", "sidecar", "-q", "-p", "no:cacheprovider", ...process.argv.slice(2)], { allowFailure: true });
if (status === 5) {
  console.log("pytest collected no tests (exit 5): treated as success.");
  process.exit(0);
}
process.exit(status);
