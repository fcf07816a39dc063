/**
 * AWS SDK v3 service errors as the clients throw them (a `name` from the service, a `$fault`, `$metadata`), for
 * tests that mock the client with aws-sdk-client-mock.
 */
export function awsError(name: string, fault: "client" | "server" = "client"): Error {
  return Object.assign(new Error(`${name} (test)`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === "client" ? 400 : 500, attempts: 1 },
  });
}
