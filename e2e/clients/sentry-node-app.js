'use strict';
// Sends exceptions to stacklens with the real @sentry/node SDK.
//
//   STACKLENS_DSN=http://phc_…@127.0.0.1:PORT/1 node sentry-node-app.js manual
//     captureException twice (a plain Error thrown three calls deep, and an
//     OrderRejectedError whose cause is a TypeError), with a tag, a user and
//     a breadcrumb; then close() flushes.
//   STACKLENS_DSN=… STACKLENS_HOST=… STACKLENS_TOKEN=… node sentry-node-app.js both
//     one error, captured once through @sentry/node and once through posthog-node.
//   STACKLENS_DSN=… node sentry-node-app.js facts <environment> <message> [key=value…]
//     one Error(<message>) in <environment>, with the tags given, a user with
//     id, email, username and IP, and breadcrumbs before it: a navigation, an
//     HTTP call with data, and a console.warn the SDK records itself.
const Sentry = require('@sentry/node');
const { PostHog } = require('posthog-node');
const { placeOrder, outer } = require('./orders');

const dsn = process.env.STACKLENS_DSN;
const mode = process.argv[2];
if (!dsn || !mode) {
  console.error('usage: STACKLENS_DSN=… node sentry-node-app.js manual|both');
  process.exit(2);
}

const environment = mode === 'facts' ? process.argv[3] : 'e2e';
Sentry.init({ dsn, release: 'e2e@1.2.3', environment, debug: !!process.env.DEBUG });

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

async function facts() {
  const message = process.argv[4];
  const tags = Object.fromEntries(process.argv.slice(5).map((kv) => kv.split('=')));
  Sentry.setUser({ id: 'facts-user-7', email: 'facts@example.test', username: 'facts_user', ip_address: '203.0.113.9' });
  Sentry.setTags(tags);
  Sentry.addBreadcrumb({ category: 'navigation', message: 'GET /cart', level: 'info' });
  Sentry.addBreadcrumb({ type: 'http', category: 'http', level: 'warning',
    data: { method: 'POST', url: 'https://payments.test/charge', status_code: 502 } });
  console.warn('payment retry 1 of 3');
  try {
    throw new Error(message);
  } catch (err) {
    Sentry.captureException(err);
  }
  await Sentry.close(10000);
}

const run = { manual, both, facts }[mode];
if (!run) {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
run().catch((e) => { console.error(e); process.exit(1); });
