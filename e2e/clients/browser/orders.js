// Application code several calls deep, so stack traces have depth to resolve.

export class CheckoutRejectedError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CheckoutRejectedError';
  }
}

export function chargeCard(amount) {
  if (typeof amount !== 'number') {
    throw new TypeError('browser e2e amount is ' + typeof amount);
  }
  return amount;
}

export function checkout(order) {
  try {
    chargeCard(order.amount);
  } catch (err) {
    throw new CheckoutRejectedError('browser e2e checkout ' + order.id + ' rejected', { cause: err });
  }
}

export function deepest(message) {
  throw new Error(message);
}

export function deeper(message) {
  return deepest(message);
}

export function deep(message) {
  return deeper(message);
}

export function explodeUncaught() {
  throw new RangeError('browser e2e uncaught explosion');
}
