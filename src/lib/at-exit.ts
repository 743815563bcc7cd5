/**
 * Synchronous work that must happen however the process leaves, also through process.exit()
 * (exit 130 on a second Ctrl-C, src/base-command.ts), where no finally block and no pending
 * callback runs any more: removing our own socket file, giving the terminal its cursor back.
 *
 * One process 'exit' listener serves every job, so that many of them (in-process tests open many
 * servers and views) do not pile up listeners. A job that throws does not keep the others from
 * running.
 */
const jobs = new Set<() => void>();
let installed = false;

function runJobs(): void {
  for (const job of jobs) {
    try {
      job();
    } catch {
      // the process is leaving: nothing to report to, and the other jobs still run
    }
  }
}

/** Runs `job` when the process exits (unless removed first); returns its remover. */
export function atExit(job: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runJobs);
  }
  jobs.add(job);
  return () => {
    jobs.delete(job);
  };
}
