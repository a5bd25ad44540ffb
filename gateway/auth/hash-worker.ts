/** Runs in a piscina thread: bcrypt costs 75–90 ms of CPU a hash here, never on the event loop. */
import bcrypt from 'bcryptjs';

export type HashTask =
  | { op: 'hash'; password: string; rounds: number }
  | { op: 'verify'; password: string; hash: string };

export default function run(task: HashTask): string | boolean {
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.rounds);
  return bcrypt.compareSync(task.password, task.hash);
}
