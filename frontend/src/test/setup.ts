import './node-fetch-globals';
import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { seen } from './handlers';
import { server } from './server';

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
});
afterAll(() => server.close());

// jsdom has no object URLs; the page only needs a string to put in <img src>.
let objectUrls = 0;
URL.createObjectURL = () => `blob:http://localhost/${++objectUrls}`;
URL.revokeObjectURL = () => undefined;

afterEach(() => {
  seen.length = 0;
  window.location.hash = '';
});
