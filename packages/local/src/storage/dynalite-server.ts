import fs from "node:fs";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts dynalite (the DynamoDB API on LevelDB) on `host`, on a free port unless one is given.
 * With `dir`, tables persist there across restarts; without it, they live in memory (tests).
 * Tables are ACTIVE at once (no CREATING delay), so startup does not wait.
 */
export async function startDynalite(
  options: { dir?: string; host?: string; port?: number } = {},
): Promise<DynaliteServer> {
  const host = options.host ?? "127.0.0.1";
  if (options.dir) fs.mkdirSync(options.dir, { recursive: true });
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
        server.close((error?: Error) => (error ? reject(error) : resolve()));
      }),
  };
}
