// Public surface of the balancer module. Re-exports only; no logic lives here.
export { Balancer, BalancerInvariantError, type BalancerMember, type BalancerOptions, type BalancerRequest, type BalancerCounts, type RequestOutcome } from './balancer';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget';
