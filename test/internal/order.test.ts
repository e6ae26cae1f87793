import { compareText } from '../../src/internal/order';

test('compareText orders by code units, whatever the locale', () => {
  // localeCompare under en-US would give a, B, x_y, x-y.
  expect(['x_y', 'a', 'x-y', 'B'].sort(compareText)).toEqual(['B', 'a', 'x-y', 'x_y']);
  expect(compareText('svc', 'svc')).toBe(0);
});
