// Hono on @hono/node-server, bare route, c.json as its docs teach.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { BODY, HOST, PORT, stopOnSignal } from './common.js';

const app = new Hono();
app.get('/health', (c) => c.json(BODY));
const server = serve({ fetch: app.fetch, hostname: HOST, port: PORT });
stopOnSignal((done) => server.close(done));
