export class Ledger {
  constructor() {
    this.entries = [];
  }

  post(amount) {
    if (!Number.isFinite(amount)) {
      throw new Error('amount is not finite');
    }
    this.entries.push(amount);
    return this.balance();
  }

  balance() {
    return this.entries.reduce((sum, value) => {
      if (typeof value !== 'number') {
        throw new TypeError('ledger entry is not a number');
      }
      return sum + value;
    }, 0);
  }
}
