// The bench's loopback teacher in its own process, so that its work is not counted against the
// client's event loop (a real teacher runs elsewhere). Prints its endpoint, answers after the
// latency given as the first argument, and exits when its stdin closes.
import { goodAnswer, startFakeTeacher } from "../test/unit/fakeTeacher";

const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) }), Number(process.argv[2] ?? 0));
process.stdout.write(`${teacher.endpoint}\n`);
process.stdin.resume();
process.stdin.on("end", () => void teacher.close().then(() => process.exit(0)));
