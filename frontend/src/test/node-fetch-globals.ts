/**
 * jsdom brings its own Blob, File and FormData, but fetch (and so MSW) is Node's: a jsdom
 * FormData holding a jsdom File reaches the handlers garbled. Use Node's classes throughout
 * the tests so the multipart body the page builds is the one a handler reads back.
 */
import { Blob as NodeBlob, File as NodeFile } from 'node:buffer';

const NodeFormData = (await new Response(new URLSearchParams('a=1')).formData()).constructor as typeof FormData;

Object.assign(globalThis, { Blob: NodeBlob, File: NodeFile, FormData: NodeFormData });
