import { describe, expect, it } from "vitest";
import { accessOf, authorize, isAllowed } from "../../src/auth/authorize.ts";
import { ForbiddenError, UnauthorizedError } from "../../src/auth/errors.ts";
import { groupsOf, principalFromClaims } from "../../src/auth/principal.ts";

describe("authorization rule", () => {
  it("viewers read, operators read and write", () => {
    const viewer = { user: "v@example.com", role: "viewer" as const };
    const operator = { user: "o@example.com", role: "operator" as const };
    expect(isAllowed(viewer, "read")).toBe(true);
    expect(isAllowed(viewer, "write")).toBe(false);
    expect(isAllowed(operator, "read")).toBe(true);
    expect(isAllowed(operator, "write")).toBe(true);
    expect(() => authorize(viewer, "write")).toThrow(ForbiddenError);
    expect(() => authorize(operator, "write")).not.toThrow();
  });

  it("derives the access from the method: GET/HEAD/OPTIONS read, the rest write", () => {
    expect(["GET", "head", "OPTIONS"].map(accessOf)).toEqual(["read", "read", "read"]);
    expect(["POST", "PUT", "DELETE", "PATCH"].map(accessOf)).toEqual(["write", "write", "write", "write"]);
  });
});

describe("principal from claims", () => {
  it("reads cognito:groups as an array, as API Gateway's flattened string, or a plain string", () => {
    expect(groupsOf(["operators", "viewers"])).toEqual(["operators", "viewers"]);
    expect(groupsOf("[operators viewers]")).toEqual(["operators", "viewers"]);
    expect(groupsOf("viewers")).toEqual(["viewers"]);
    expect(groupsOf(undefined)).toEqual([]);
  });

  it("operators wins over viewers; user from email, then cognito:username, then sub", () => {
    expect(principalFromClaims({ sub: "s1", "cognito:groups": "[viewers operators]" })).toEqual({
      user: "s1",
      role: "operator",
    });
    expect(
      principalFromClaims({
        sub: "s1",
        "cognito:username": "kim",
        email: "kim@x.org",
        "cognito:groups": ["viewers"],
      }),
    ).toEqual({ user: "kim@x.org", role: "viewer" });
    expect(
      principalFromClaims({ sub: "s1", "cognito:username": "kim", "cognito:groups": ["viewers"] }).user,
    ).toBe("kim");
  });

  it("refuses a token without a user (401) or without a Driftwatch group (403)", () => {
    expect(() => principalFromClaims({ "cognito:groups": ["operators"] })).toThrow(UnauthorizedError);
    expect(() => principalFromClaims({ sub: "s1", "cognito:groups": ["admins"] })).toThrow(ForbiddenError);
  });
});
