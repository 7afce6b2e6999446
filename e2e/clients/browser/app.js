// The browser app the e2e test serves: posthog-js pointed at stacklens, and
// buttons that raise errors three ways (manual capture, uncaught, unhandled
// rejection). Host and token come from the page's query string so one build
// serves any test server.
import posthog from 'posthog-js';
import { checkout, deep, explodeUncaught } from './orders.js';

const params = new URLSearchParams(window.location.search);

posthog.init(params.get('token'), {
  api_host: params.get('host'),
  opt_out_useragent_filter: true,
  capture_exceptions: true,
  capture_pageview: false,
  autocapture: false,
  disable_session_recording: true,
  persistence: 'memory',
});

function runManual() {
  try {
    deep('browser e2e manual boom');
  } catch (err) {
    posthog.captureException(err);
  }
}

function runUncaught() {
  // Thrown from a timer so no click handler frame of the driver is involved.
  setTimeout(explodeUncaught, 0);
}

function runRejection() {
  Promise.resolve().then(() => checkout({ id: 'ord_browser', amount: undefined }));
}

document.getElementById('manual').addEventListener('click', runManual);
document.getElementById('uncaught').addEventListener('click', runUncaught);
document.getElementById('rejection').addEventListener('click', runRejection);

// The test clicks only once autocapture has wrapped window.onerror and
// window.onunhandledrejection (the extension script loads asynchronously).
window.stacklensReady = () =>
  !!(window.onerror && window.onerror.__POSTHOG_INSTRUMENTED__ &&
     window.onunhandledrejection && window.onunhandledrejection.__POSTHOG_INSTRUMENTED__);
