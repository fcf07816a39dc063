import type { Command } from "commander";

/**
 * `driftwatch token --role operator|viewer [--user NAME] [--ttl SECONDS]`: prints a token the running local
 * instance accepts (signed with its key in `$DRIFTWATCH_DATA_DIR/keys/`, created if no instance ran yet), for
 * curl, scripts and browser tests: `curl -H "Authorization: Bearer $(npx driftwatch token --role viewer)" …`.
 */
export function registerToken(program: Command): void {
  program
    .command("token")
    .description("Print a token the running local instance accepts (for curl: Authorization: Bearer <token>)")
    .option("--role <role>", "operator (read and write) or viewer (read only)", "operator")
    .option(
      "--user <name>",
      "user name recorded for the token's actions",
      process.env.USER || "local-operator",
    )
    .option("--ttl <seconds>", "lifetime in seconds", "43200")
    .option("--json", "print {token, user, role, expiresAt}")
    .action(async (options: { role: string; user: string; ttl: string; json?: boolean }) => {
      if (options.role !== "operator" && options.role !== "viewer") {
        throw new Error(`--role must be operator or viewer, got "${options.role}"`);
      }
      const ttlSeconds = Number(options.ttl);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 30 * 24 * 3600) {
        throw new Error("--ttl must be a whole number of seconds between 1 and 2592000 (30 days)");
      }
      if (!options.user.trim()) throw new Error("--user must not be empty");
      const path = await import("node:path");
      const { readLocalConfig } = await import("../../runtime/config.ts");
      const { loadLocalIdentity } = await import("../../runtime/local-identity.ts");
      const identity = await loadLocalIdentity(path.join(readLocalConfig().dataDir, "keys"));
      const role = options.role;
      const signed = await identity.sign({ user: options.user.trim(), role, ttlSeconds });
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ token: signed.token, user: options.user.trim(), role, expiresAt: signed.expiresAt })}\n`
          : `${signed.token}\n`,
      );
    });
}
