import fs from "node:fs";
import path from "node:path";
import { ConfigurationError } from "@driftwatch/core/shared/errors";

/** Another local instance runs on the same data directory (its LevelDB store and spool cannot be shared). */
export class InstanceRunningError extends ConfigurationError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `$DATA_DIR/driftwatch.pid` for this process. A pid file of a process that no longer runs (a crash,
 * kill -9) is taken over; one of a live process fails with a message that says what to do.
 */
export function acquireInstanceLock(dataDir: string): { release(): void } {
  const file = path.join(dataDir, "driftwatch.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return {
        release() {
          try {
            if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(fs.readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new InstanceRunningError(
          `another Driftwatch local instance (pid ${pid}) is using ${dataDir}; stop it (Ctrl-C) or set DRIFTWATCH_DATA_DIR`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new InstanceRunningError(`could not take ${file}`);
}
