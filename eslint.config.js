import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", ".sst/**", "cdk.out/**", ".driftwatch/**", "**/dist/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "warn",
    },
  },
  {
    files: ["packages/core/src/**/*.ts", "packages/core/testing/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "@aws-sdk/*",
                "aws-sdk",
                "sst/*",
                "sst",
                "aws-lambda",
                "@aws-lambda-powertools/*",
                "@middy/*",
              ],
              message: "packages/core is pure TypeScript: no AWS SDK, no sst, no aws-lambda types.",
            },
          ],
        },
      ],
    },
  },
);
