import { describe, expect, it } from "vitest";
import { ConsoleConfigError, DEV_SERVER_ORIGIN, consoleConfig } from "../constructs/console-config.ts";

describe("console config (CORS origins, sign-in callbacks, custom domain)", () => {
  it("allows only the Vite dev server in a non-production stage without a domain", () => {
    expect(consoleConfig("alice", {})).toEqual({
      domain: undefined,
      hostedZone: undefined,
      origins: [DEV_SERVER_ORIGIN],
    });
  });

  it("requires a domain in production and allows exactly its https origin", () => {
    expect(() => consoleConfig("production", {})).toThrow(ConsoleConfigError);
    expect(
      consoleConfig("production", { DRIFTWATCH_CONSOLE_DOMAIN: "console.driftwatch.example.com" }),
    ).toEqual({
      domain: "console.driftwatch.example.com",
      hostedZone: "driftwatch.example.com",
      origins: ["https://console.driftwatch.example.com"],
    });
  });

  it("looks the domain up in its parent zone unless a hosted zone is named", () => {
    const env = {
      DRIFTWATCH_CONSOLE_DOMAIN: "ops.example.com",
      DRIFTWATCH_CONSOLE_HOSTED_ZONE: "ops.example.com",
    };
    expect(consoleConfig("bob", env).hostedZone).toBe("ops.example.com");
    expect(consoleConfig("bob", { DRIFTWATCH_CONSOLE_DOMAIN: "example.com" }).hostedZone).toBe("example.com");
    expect(consoleConfig("bob", { DRIFTWATCH_CONSOLE_DOMAIN: "a.b.example.com" }).origins).toEqual([
      "https://a.b.example.com",
      DEV_SERVER_ORIGIN,
    ]);
  });

  it("refuses a domain that is not a host name", () => {
    expect(() => consoleConfig("bob", { DRIFTWATCH_CONSOLE_DOMAIN: "https://x.example.com/" })).toThrow(
      /is not a host name/,
    );
  });
});
