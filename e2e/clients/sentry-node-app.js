'use strict';
// Sends exceptions to stacklens with the real @sentry/node SDK.
//
//   STACKLENS_DSN=http://phc_…@127.0.0.1:PORT/1 node sentry-node-app.js manual
//     captureException twice (a plain Error thrown three calls deep, and an
//     OrderRejectedError whose cause is a TypeError), with a tag, a user and
//     a breadcrumb; then close() flushes.
//   STACKLENS_DSN=… STACKLENS_HOST=… STACKLENS_TOKEN=… node sentry-node-app.js both
//     one error, captured once through @sentry/node and once through posthog-node.
const Sentry = require('@sentry/node');
const { PostHog } = require('posthog-node');
const { placeOrder, outer } = require('./orders');

const dsn = process.env.STACKLENS_DSN;
const mode = process.argv[2];
if (!dsn || !mode) {
  console.error('usage: STACKLENS_DSN=… node sentry-node-app.js manual|both');
  process.exit(2);
}

Sentry.init({ dsn, release: 'e2e@1.2.3', environment: 'e2e', debug: !!process.env.DEBUG });

async function manual() {
  Sentry.setUser({ id: 'sentry-e2e-user', email: 'e2e@example.test' });
  Sentry.addBreadcrumb({ category: 'checkout', message: 'cart opened', level: 'info' });
  try {
    outer();
  } catch (err) {
    Sentry.captureException(err, { tags: { case: 'nested' } });
  }
  try {
    placeOrder({ id: 'ord_e2e', quantity: 'three' });
  } catch (err) {
    Sentry.captureException(err, { tags: { case: 'cause-chain' } });
  }
  await Sentry.close(10000);
}

async function both() {
  const posthog = new PostHog(process.env.STACKLENS_TOKEN, { host: process.env.STACKLENS_HOST, flushAt: 1, flushInterval: 0 });
  try {
    outer();
  } catch (err) {
    Sentry.captureException(err);
    posthog.captureException(err, 'both-e2e-user');
  }
  await Promise.all([Sentry.close(10000), posthog.shutdown()]);
}

const run = { manual, both }[mode];
if (!run) {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
run().catch((e) => { console.error(e); process.exit(1); });
