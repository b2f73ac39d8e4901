// Bare Fastify: one route with a response schema (fast-json-stringify), no logger, as its docs teach.
import Fastify from 'fastify';
import { BODY, HOST, PORT, stopOnSignal } from './common.js';

const app = Fastify({ logger: false });
app.get('/health', {
  schema: {
    response: {
      200: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'implementation', 'version'],
        properties: {
          status: { type: 'string', const: 'ok' },
          implementation: { type: 'string', enum: ['python', 'node'] },
          version: { type: 'string' },
        },
      },
    },
  },
  handler: async () => BODY,
});
await app.listen({ host: HOST, port: PORT });
stopOnSignal((done) => app.close().then(done));
