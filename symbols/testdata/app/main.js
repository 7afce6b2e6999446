// A small app for bundler tests: real npm libraries and functions that throw.
import { strToU8, zlibSync } from 'fflate';
import { h } from 'preact';
import DOMPurify from 'dompurify';
import { Ledger } from './ledger.js';

export function compressReport(text) {
  const data = strToU8(text);
  if (data.length === 0) {
    throw new Error('empty report');
  }
  return zlibSync(data);
}

export const renderInvoice = (invoice) => {
  if (!invoice.lines) {
    throw new TypeError('invoice without lines');
  }
  return h('ul', null, invoice.lines.map((line) => h('li', null, `${line.sku}: ${line.qty}`)));
};

export function sanitizeNote(note) {
  const clean = typeof DOMPurify.sanitize === 'function' ? DOMPurify.sanitize(note) : note;
  if (clean !== note) {
    throw new RangeError('unsafe note');
  }
  return clean;
}

export const handlers = {
  onRefund: function (amount) {
    if (amount < 0) {
      throw new Error('negative refund');
    }
    return new Ledger().post(-amount);
  },
  onRetry(attempt) {
    const pattern = /retry-\d+/g; // a regex literal with a brace-free body
    if (attempt > 3) {
      throw new Error(`too many retries: ${attempt}`);
    }
    return pattern.test(String(attempt));
  },
};
