/** How this file adds its middleware to a stack (the SDK's own stack types come from a package it does not export). */
interface BuildStack {
  add(
    middleware: (
      next: (args: { request: unknown }) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'build'; name: string },
  ): void;
}

/**
 * The SigV4 payload hashes given for request bodies (see givePayloadHashes): kept beside the body
 * rather than in a middleware of the command's own, so that the client can reuse one resolved
 * middleware stack for every command of a kind (its `cacheMiddleware`). Keyed by the body, the one
 * thing of a command's input the SDK hands on as it is (its middleware copies the input itself).
 */
const givenHashes = new WeakMap<object, string>();

/** Signs the request that sends `body` (a command's Body, sent by no other request) with `sha256` (hex) as its payload hash. */
export function signWithPayloadHash(body: Buffer, sha256: string): void {
  givenHashes.set(body, sha256);
}

/**
 * Signs the requests of `client`'s stack with the SigV4 payload hash `hashFor` gives for their command
 * (a SHA-256 in hex, or UNSIGNED-PAYLOAD), or the one given for their input (signWithPayloadHash),
 * instead of one the SDK computes by hashing the body: the signer takes the x-amz-content-sha256 header
 * as it is. Neither: the request is left to the SDK.
 */
export function givePayloadHashes(stack: { add(...args: never[]): unknown }, hashFor: (commandName: string | undefined) => string | undefined): void {
  (stack as unknown as BuildStack).add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const given = typeof request.body === 'object' && request.body !== null ? givenHashes.get(request.body) : undefined;
      const hash = given ?? hashFor(context.commandName);
      if (hash !== undefined && request.headers !== undefined) request.headers['x-amz-content-sha256'] = hash;
      return next(args);
    },
    { step: 'build', name: 'attachePayloadHash' },
  );
}
