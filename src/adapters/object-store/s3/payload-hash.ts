/** How this file adds its middleware to a stack (the SDK's own stack types come from a package it does not export). */
interface BuildStack {
  add(
    middleware: (next: (args: { request: unknown }) => Promise<unknown>, context: { commandName?: string }) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'build'; name: string },
  ): void;
}

/**
 * Signs the requests of `stack` (a client's or a command's) with the SigV4 payload hash `hashFor`
 * gives for their command (a SHA-256 in hex, or UNSIGNED-PAYLOAD) instead of one the SDK computes by
 * hashing the body: the signer takes the x-amz-content-sha256 header as it is. `undefined` leaves a
 * request to the SDK.
 */
export function givePayloadHash(
  stack: { add(...args: never[]): unknown },
  name: string,
  hashFor: (commandName: string | undefined) => string | undefined,
): void {
  (stack as unknown as BuildStack).add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      const hash = hashFor(context.commandName);
      if (hash !== undefined && request.headers !== undefined) request.headers['x-amz-content-sha256'] = hash;
      return next(args);
    },
    { step: 'build', name },
  );
}
