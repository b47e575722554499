// Normalized Task JSONL as `codistill dataset export` writes it: read back and validated.
import { FieldError } from "../errors";
import type { Fields } from "../fields";
import type { Task } from "../task";
import { validateTask } from "../validate";
import type { MapContext, RecordMapper } from "./types";

/**
 * Ids are unique within a dataset: the first row with an id keeps it, a later one is rejected.
 * A row read again by task() finds its own id here.
 */
export function uniqueIds(field: string): (id: string, ctx: MapContext) => void {
  const rowOfId = new Map<string, number>();
  return (id, ctx) => {
    const first = rowOfId.get(id);
    if (first !== undefined && first !== ctx.row) throw new FieldError(field, `duplicate id ${JSON.stringify(id)} (first in record ${first + 1})`);
    rowOfId.set(id, ctx.row);
  };
}

export function tasksMapper(): RecordMapper {
  const checkId = uniqueIds("id");
  return {
    required: ["id", "source", "prompt", "solutions", "tests", "meta"],
    map(record: Fields, ctx: MapContext): Task {
      const task = validateTask(record);
      checkId(task.id, ctx);
      return task;
    },
  };
}
