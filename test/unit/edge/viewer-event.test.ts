import { describe, expect, it } from 'vitest';
import { nodeResponseParts, parseCookies, parseQueryString, viewerRequestEvent } from '../../../edge/viewer-event.js';
import { viewerRequestEvent as reExported } from '../../../edge/run-gate.js';
import { CURRENT_KEY, NOW, gateWith, kvsOf, mint } from './fixtures.js';

describe('viewer-request event from a Node request', () => {
  it('builds the event CloudFront would: path, parsed query, lowercase headers, cookies apart', () => {
    const event = viewerRequestEvent({
      method: 'get',
      url: '/shop/item?color=red&size=M&size=L&gift',
      headers: { host: 'shop.example.com', accept: 'text/html', 'x-many': ['1', '2'], cookie: 'a=1; wr_pass_shop=x.y.z' },
      socket: { remoteAddress: '203.0.113.9' },
    });
    expect(event).toEqual({
      version: '1.0',
      context: { eventType: 'viewer-request' },
      viewer: { ip: '203.0.113.9' },
      request: {
        method: 'GET',
        uri: '/shop/item',
        querystring: { color: { value: 'red' }, size: { value: 'M', multiValue: [{ value: 'M' }, { value: 'L' }] }, gift: { value: '' } },
        headers: { host: { value: 'shop.example.com' }, accept: { value: 'text/html' }, 'x-many': { value: '1', multiValue: [{ value: '1' }, { value: '2' }] } },
        cookies: { a: { value: '1' }, wr_pass_shop: { value: 'x.y.z' } },
      },
    });
  });

  it('puts a cookie sent twice (in one header or in two) into multiValue', () => {
    expect(parseCookies(['wr_pass_shop=a; wr_pass_shop=b'])).toEqual({ wr_pass_shop: { value: 'a', multiValue: [{ value: 'a' }, { value: 'b' }] } });
    expect(viewerRequestEvent({ url: '/', headers: { cookie: ['wr_pass_shop=a', 'wr_pass_shop=b'] } }).request.cookies).toEqual({
      wr_pass_shop: { value: 'a', multiValue: [{ value: 'a' }, { value: 'b' }] },
    });
  });

  it('keeps the path and the values exactly as sent, never normalized or decoded', () => {
    const event = viewerRequestEvent({ url: '/assets/../shop/caf%C3%A9?q=a%20b#top', headers: { cookie: 'c="quoted"; =empty; flag' } });
    expect(event.request.uri).toBe('/assets/../shop/caf%C3%A9');
    expect(event.request.querystring).toEqual({ q: { value: 'a%20b' } });
    expect(event.request.cookies).toEqual({ c: { value: '"quoted"' } });
  });

  it('takes the path of an absolute-form target and defaults the rest', () => {
    const event = viewerRequestEvent({ url: 'http://shop.example.com/checkout?x=1', headers: {} });
    expect(event.request).toMatchObject({ method: 'GET', uri: '/checkout', querystring: { x: { value: '1' } } });
    expect(viewerRequestEvent({ headers: {} }).request).toMatchObject({ method: 'GET', uri: '/', querystring: {}, cookies: {} });
    expect(viewerRequestEvent({ headers: {} }).viewer.ip).toBe('127.0.0.1');
  });

  it('parses a query string with empty pieces and values holding "="', () => {
    expect(parseQueryString('&a=1=2&&b=')).toEqual({ a: { value: '1=2' }, b: { value: '' } });
  });

  it('is what run-gate exports too, and drives the gate end to end', async () => {
    expect(reExported).toBe(viewerRequestEvent);
    const gate = gateWith(kvsOf(CURRENT_KEY));
    const pass = mint({ now: NOW });
    const event = viewerRequestEvent({ url: '/shop/item', headers: { cookie: `other=1; wr_pass_shop=${pass}`, accept: 'text/html' } });
    expect(await gate.handler(event)).toBe(event.request);
  });
});

describe('Node response from a generated response', () => {
  it('writes status, headers, Set-Cookie and a text body', () => {
    const parts = nodeResponseParts({
      statusCode: 403,
      statusDescription: 'Forbidden',
      headers: { 'content-type': { value: 'application/json' }, vary: { value: 'a', multiValue: [{ value: 'a' }, { value: 'b' }] } },
      cookies: { wr_pass_shop: { value: 'x', attributes: 'Path=/; HttpOnly' }, two: { value: '1', multiValue: [{ value: '1' }, { value: '2', attributes: 'Path=/a' }] } },
      body: { encoding: 'text', data: '{"ok":false}' },
    });
    expect(parts).toEqual({
      statusCode: 403,
      statusMessage: 'Forbidden',
      headers: { 'content-type': 'application/json', vary: ['a', 'b'], 'set-cookie': ['wr_pass_shop=x; Path=/; HttpOnly', 'two=1', 'two=2; Path=/a'] },
      body: Buffer.from('{"ok":false}'),
    });
  });

  it('decodes a base64 body, takes a plain string body as text, and an absent body as empty', () => {
    expect(nodeResponseParts({ statusCode: 200, body: { encoding: 'base64', data: Buffer.from('hi').toString('base64') } }).body.toString()).toBe('hi');
    expect(nodeResponseParts({ statusCode: 200, body: 'plain' }).body.toString()).toBe('plain');
    expect(nodeResponseParts({ statusCode: 302, headers: { location: { value: '/w' } } })).toEqual({ statusCode: 302, statusMessage: undefined, headers: { location: '/w' }, body: Buffer.alloc(0) });
  });
});
