// The level each line of the sidecar's stderr gets in the Codistill output channel.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sidecarLineLevels } from "../../src/sidecar/logger";

describe("sidecar log line levels", () => {
  it("reads the record's level; library records written at DEBUG stay out of info", () => {
    const level = sidecarLineLevels();
    assert.equal(level("09:12:01.123 INFO codistill.server: sidecar ready"), "info");
    assert.equal(level("09:12:01.124 DEBUG py.warnings: /v/transformers/modeling_utils.py:3314: FutureWarning: `is_gradient_checkpointing` is deprecated"), "debug");
    assert.equal(level("09:12:01.125 WARNING codistill.training: few rows"), "warn");
    assert.equal(level("09:12:01.126 ERROR codistill.server: boom"), "error");
    assert.equal(level("Traceback (most recent call last):"), "error");
    assert.equal(level('  File "x.py", line 1, in <module>'), "error");
    assert.equal(level("ZeroDivisionError: division by zero"), "error");
    assert.equal(level("09:12:02.000 CRITICAL codistill.server: gone"), "error");
  });

  it("a Python warning printed without logging (a child process) and its source line are debug", () => {
    const level = sidecarLineLevels();
    assert.equal(level("09:12:01.123 INFO codistill.server: sidecar ready"), "info");
    assert.equal(level("/venv/lib/python3.12/site-packages/transformers/modeling_utils.py:3314: FutureWarning: `is_gradient_checkpointing` is deprecated"), "debug");
    assert.equal(level("  warnings.warn("), "debug");
    // transformers' own handler writes bare messages; progress bars too: a library's, at debug.
    assert.equal(level("Some weights of RobertaModel were not initialized from the model checkpoint"), "debug");
    assert.equal(level("Loading checkpoint shards: 100%"), "debug");
    assert.equal(level("09:12:01.125 INFO codistill.training: epoch 1"), "info");
  });

  it("an uncaught exception's traceback is an error; one logged at warning stays a warning", () => {
    const level = sidecarLineLevels();
    assert.equal(level("Traceback (most recent call last):"), "error");
    assert.equal(level('  File "/x/server.py", line 3, in <module>'), "error");
    assert.equal(level("RuntimeError: CUDA out of memory"), "error");
    assert.equal(level("09:12:01.125 WARNING codistill.export: retrying"), "warn");
    assert.equal(level("Traceback (most recent call last):"), "warn");
    assert.equal(level("OSError: busy"), "warn");
    assert.equal(level("09:12:01.126 INFO codistill.export: done"), "info");
  });
});
