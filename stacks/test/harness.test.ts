import { beforeAll, describe, expect, it } from "vitest";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { Function as SstFunction, type StackContext } from "sst/constructs";
import { synthStacks, type SynthResult } from "./harness.ts";

function Trivial({ stack }: StackContext) {
  const bucket = new Bucket(stack, "Plain");
  return { bucket };
}

function UsesTrivial({ stack }: StackContext) {
  new SstFunction(stack, "Fn", { handler: "stacks/test/fixtures/noop.handler" });
}

describe("synthStacks", () => {
  let synth: SynthResult;
  beforeAll(async () => {
    synth = await synthStacks([Trivial, UsesTrivial], { stage: "test" });
  });

  it("returns a template per stack function", () => {
    expect(Object.keys(synth.templates)).toEqual(["Trivial", "UsesTrivial"]);
    synth.templates.Trivial.resourceCountIs("AWS::S3::Bucket", 1);
  });

  it("applies the app defaults to functions", () => {
    synth.templates.UsesTrivial.hasResourceProperties("AWS::Lambda::Function", {
      Architectures: ["arm64"],
      Runtime: "nodejs22.x",
    });
  });

  it("reports unsuppressed cdk-nag findings of both packs", () => {
    const packs = new Set(synth.findings.map((f) => f.pack));
    expect(packs).toContain("AwsSolutions");
    expect(packs).toContain("HIPAA.Security");
    expect(
      synth.findings.some((f) => f.ruleId === "AwsSolutions-S1" && f.resourcePath.includes("Plain")),
    ).toBe(true);
  });
});
