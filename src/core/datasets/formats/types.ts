import type { Fields } from "../fields";
import type { Task } from "../task";

export interface MapContext {
  /** Position of the record among all records of the dataset, good or rejected, 0-based. */
  row: number;
}

/** Maps one raw record of a source format to a Task, or throws FieldError. */
export interface RecordMapper {
  /** Fields a record must have; a Parquet file without one of these columns is rejected whole. */
  readonly required: readonly string[];
  /** Fields to read from Parquet; undefined reads every column. */
  readonly columns?: readonly string[];
  map(record: Fields, ctx: MapContext): Task;
}
