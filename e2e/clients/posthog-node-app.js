'use strict';
// Sends exceptions to stacklens with the real posthog-node SDK.
//
//   STACKLENS_HOST=http://127.0.0.1:PORT STACKLENS_TOKEN=phc_… node posthog-node-app.js manual
//     captureException twice: a plain Error thrown three calls deep, and an
//     OrderRejectedError whose cause is a TypeError; then shutdown() flushes.
//   … node posthog-node-app.js uncaught
//     enableExceptionAutocapture, then an uncaught RangeError from a timer;
//     the SDK captures it, flushes and lets the process die.
//   … node posthog-node-app.js facts
//     one Error for a web request the server handled, passing on what it
//     knows of the visitor as PostHog properties: $browser, $os,
//     $device_type, $current_url, $environment, and a plain property.
//   STACKLENS_HOSTS=http://…,http://… STACKLENS_LOAD=prefix:count … node posthog-node-app.js load
//     count exceptions (TypeError, RangeError, SyntaxError in turn), one at a
//     time with captureExceptionImmediate, each to the next host in turn (one
//     client per host, no retries), with distinct id and property e2e_marker
//     prefix-i. Prints "accepted <marker>" when the request was answered 2xx,
//     "failed <marker>" when the SDK reported an error for it.
const { PostHog } = require('posthog-node');
const { placeOrder, outer, crashLater } = require('./orders');

const host = process.env.STACKLENS_HOST;
const token = process.env.STACKLENS_TOKEN;
const mode = process.argv[2];
if (!host || !token || !mode) {
  console.error('usage: STACKLENS_HOST=… STACKLENS_TOKEN=… node posthog-node-app.js manual|uncaught');
  process.exit(2);
}

async function manual() {
  const client = new PostHog(token, { host, flushAt: 1, flushInterval: 0 });
  client.debug(!!process.env.DEBUG);

  try {
    outer();
  } catch (err) {
    client.captureException(err, 'node-e2e-user', { case: 'nested' });
  }

  try {
    placeOrder({ id: 'ord_e2e', quantity: 'three' });
  } catch (err) {
    client.captureException(err, 'node-e2e-user', { case: 'cause-chain' });
  }

  await client.shutdown();
}

function uncaught() {
  const client = new PostHog(token, { host, flushAt: 1, flushInterval: 0, enableExceptionAutocapture: true });
  client.debug(!!process.env.DEBUG);
  setTimeout(crashLater, 10);
}

async function facts() {
  const client = new PostHog(token, { host, flushAt: 1, flushInterval: 0 });
  try {
    throw new Error('posthog facts e2e boom');
  } catch (err) {
    client.captureException(err, 'ph-facts-user', {
      $browser: 'Chrome', $browser_version: '120.0', $os: 'Mac OS X', $os_version: '14.1', $device_type: 'Desktop',
      $current_url: 'https://shop.test/cart', $environment: 'production', plan: 'pro',
    });
  }
  await client.shutdown();
}

async function load() {
  const hosts = (process.env.STACKLENS_HOSTS || '').split(',').filter(Boolean);
  const [prefix, count] = (process.env.STACKLENS_LOAD || '').split(':');
  if (!hosts.length || !prefix || !(Number(count) > 0)) {
    console.error('load needs STACKLENS_HOSTS=url,url,… and STACKLENS_LOAD=prefix:count');
    process.exit(2);
  }
  // The SDK reports a failed request only through its 'error' event; events
  // go one at a time, so an error seen while one is sent is that event's.
  const clients = hosts.map((h) => {
    const c = new PostHog(token, { host: h, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, requestTimeout: 10000 });
    c.failures = 0;
    c.on('error', () => { c.failures++; });
    return c;
  });
  const kinds = [TypeError, RangeError, SyntaxError];
  for (let i = 0; i < Number(count); i++) {
    const marker = `${prefix}-${i}`;
    const client = clients[i % clients.length];
    const before = client.failures;
    try {
      throw new kinds[i % kinds.length]('posthog-node multi-node load');
    } catch (err) {
      await client.captureExceptionImmediate(err, marker, { e2e_marker: marker });
    }
    console.log(`${client.failures === before ? 'accepted' : 'failed'} ${marker}`);
  }
  await Promise.all(clients.map((c) => c.shutdown()));
}

if (mode === 'load') {
  load().catch((e) => { console.error(e); process.exit(1); });
} else if (mode === 'facts') {
  facts().catch((e) => { console.error(e); process.exit(1); });
} else if (mode === 'manual') {
  manual().catch((e) => { console.error(e); process.exit(1); });
} else if (mode === 'uncaught') {
  uncaught();
} else {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
