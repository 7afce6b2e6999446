'use strict';
// A small application module for the posthog-node client: errors thrown
// several calls deep, and an error class that carries its cause.

class OrderRejectedError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'OrderRejectedError';
  }
}

function parseQuantity(raw) {
  if (typeof raw !== 'number') {
    throw new TypeError(`quantity must be a number, got ${typeof raw}`);
  }
  return raw;
}

function placeOrder(order) {
  try {
    parseQuantity(order.quantity);
  } catch (err) {
    throw new OrderRejectedError('order ' + order.id + ' rejected', { cause: err });
  }
}

function innermost() {
  throw new Error('node e2e boom from innermost');
}
function middle() {
  return innermost();
}
function outer() {
  return middle();
}

function crashLater() {
  throw new RangeError('node e2e uncaught crash');
}

module.exports = { placeOrder, outer, crashLater, OrderRejectedError };
