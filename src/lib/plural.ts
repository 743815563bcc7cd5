/**
 * A count with its noun in the right number: `counted(1, 'relay')` is "1 relay", `counted(2, 'relay')`
 * "2 relays"; irregular plurals are given (`counted(n, 'address', 'addresses')`).
 */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
