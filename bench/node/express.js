// Express 5, bare route, res.json as its docs teach.
import express from 'express';
import { BODY, HOST, PORT, stopOnSignal } from './common.js';

const app = express();
app.get('/health', (req, res) => {
  res.json(BODY);
});
const server = app.listen(PORT, HOST);
stopOnSignal((done) => server.close(done));
