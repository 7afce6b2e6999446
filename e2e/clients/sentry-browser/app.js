// The browser app the Sentry e2e test serves: @sentry/browser pointed at
// stacklens by the DSN in the page's query string, and a button whose click
// captures an error thrown three calls deep.
import * as Sentry from '@sentry/browser';
// The test bundles this beside e2e/clients/browser/orders.js.
import { deep } from './orders.js';

const params = new URLSearchParams(window.location.search);

Sentry.init({ dsn: params.get('dsn'), release: 'browser-e2e@1.0.0', environment: 'e2e' });

document.getElementById('manual').addEventListener('click', () => {
  try {
    deep('sentry browser e2e boom');
  } catch (err) {
    Sentry.captureException(err, { tags: { case: 'manual' } });
    // The test waits for this: true once the envelope was answered.
    Sentry.flush(10000).then((ok) => { window.stacklensSent = ok; });
  }
});
window.stacklensReady = () => true;
