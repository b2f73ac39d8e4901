// What every reference route answers: the same small JSON body as GET /health of the implementations.
export const BODY = { status: 'ok', implementation: 'node', version: '1.0.0' };
export const HOST = process.env.HOST ?? '127.0.0.1';
export const PORT = Number(process.env.PORT ?? 3000);

// The harness stops a server with SIGTERM: close the listener and leave.
export function stopOnSignal(close) {
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => close(() => process.exit(0)));
}
