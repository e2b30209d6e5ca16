import { describe, expect, it } from 'vitest';
import { evaluateGemini } from '../../src/probes/gemini.js';
import { evaluateOpenAi } from '../../src/probes/openai.js';
import { solidPng } from '../../src/simulator/png.js';

const PNG = solidPng(4, [10, 200, 30]).toString('base64');
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from('JFIF\0', 'latin1'),
  Buffer.from([0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]),
]).toString('base64');
const WEBP = (() => {
  const vp8 = Buffer.alloc(16);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + 8 + vp8.length, 4);
  head.write('WEBP', 8, 'latin1');
  const chunk = Buffer.alloc(8);
  chunk.write('VP8 ', 0, 'latin1');
  chunk.writeUInt32LE(vp8.length, 4);
  return Buffer.concat([head, chunk, vp8]).toString('base64');
})();
const NOT_AN_IMAGE = Buffer.from('not really a png, just some text bytes').toString('base64');

const geminiReply = (parts: unknown[], extra: Record<string, unknown> = {}, finishReason = 'STOP') => ({
  candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
  usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 1290, totalTokenCount: 1296 },
  modelVersion: 'gemini-2.5-flash-image',
  ...extra,
});

const imagePart = (mimeType: string, data: string) => ({ inlineData: { mimeType, data } });

describe('judging a Gemini image canary', () => {
  it.each([
    ['PNG', 'image/png', PNG],
    ['JPEG', 'image/jpeg', JPEG],
    ['WebP', 'image/webp', WEBP],
  ])('accepts a real %s in inlineData', (_name, mime, data) => {
    const { verdict, usage } = evaluateGemini(
      geminiReply([{ text: 'Here is a red square.' }, imagePart(mime, data)]),
      'image',
    );
    expect(verdict).toMatchObject({ class: 'ok', detail: 'finishReason: STOP' });
    expect(usage.images).toBe(1);
  });

  it('accepts the snake_case inline_data / mime_type shape of older paths', () => {
    const reply = geminiReply([{ inline_data: { mime_type: 'image/png', data: PNG } }]);
    const { verdict, usage } = evaluateGemini(reply, 'image');
    expect(verdict.class).toBe('ok');
    expect(usage.images).toBe(1);
  });

  it('calls image bytes that are no PNG, JPEG or WebP bad output', () => {
    const { verdict, usage } = evaluateGemini(
      geminiReply([{ text: 'Here it is.' }, imagePart('image/png', NOT_AN_IMAGE)]),
      'image',
    );
    expect(verdict).toMatchObject({ class: 'bad_output', message: 'image data is not a PNG, JPEG or WebP' });
    expect(usage.images).toBe(0);
  });

  it('does not accept a real image labelled with a non-image mime type', () => {
    const { verdict } = evaluateGemini(geminiReply([imagePart('application/octet-stream', PNG)]), 'image');
    expect(verdict.class).toBe('bad_output');
  });

  it('calls a text-only reply to an image canary bad output', () => {
    const { verdict } = evaluateGemini(geminiReply([{ text: 'Here is a red square.' }]), 'image');
    expect(verdict).toMatchObject({ class: 'bad_output', message: 'no image part in reply' });
  });

  it.each(['NO_IMAGE', 'IMAGE_SAFETY', 'SAFETY', 'RECITATION', 'PROHIBITED_CONTENT'])(
    'calls a reply that ended with %s and no image bad output, naming the finishReason',
    (finishReason) => {
      const { verdict } = evaluateGemini(geminiReply([{ text: 'I cannot draw that.' }], {}, finishReason), 'image');
      expect(verdict.class).toBe('bad_output');
      expect(verdict.detail).toBe(`finishReason: ${finishReason}`);
    },
  );

  it('calls a blocked prompt with no candidates bad output, naming the blockReason', () => {
    const reply = {
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
    };
    const { verdict, usage } = evaluateGemini(reply, 'image');
    expect(verdict).toMatchObject({
      class: 'bad_output',
      message: 'prompt blocked, no candidates',
      detail: 'blockReason: SAFETY',
    });
    expect(usage).toEqual({ inputTokens: 12, outputTokens: null, images: 0 });
  });

  it('calls an empty 200 body bad output', () => {
    expect(evaluateGemini({}, 'image').verdict).toMatchObject({
      class: 'bad_output',
      message: 'no candidates in reply',
      detail: null,
    });
  });

  it('counts every real image among the parts', () => {
    const { usage } = evaluateGemini(
      geminiReply([imagePart('image/png', PNG), imagePart('image/jpeg', JPEG), imagePart('image/png', NOT_AN_IMAGE)]),
      'image',
    );
    expect(usage.images).toBe(2);
  });
});

describe('judging a Gemini text canary', () => {
  it('accepts a reply with text', () => {
    expect(evaluateGemini(geminiReply([{ text: 'OK' }]), 'text').verdict.class).toBe('ok');
  });

  it('calls an empty or blank text bad output', () => {
    expect(evaluateGemini(geminiReply([{ text: '' }]), 'text').verdict).toMatchObject({
      class: 'bad_output',
      message: 'no text in reply',
    });
    expect(evaluateGemini(geminiReply([{ text: '  \n ' }]), 'text').verdict.class).toBe('bad_output');
  });

  it('calls a text canary that stopped at MAX_TOKENS without text served (the canary caps its own tokens, thinking included)', () => {
    const { verdict } = evaluateGemini(geminiReply([], {}, 'MAX_TOKENS'), 'text');
    expect(verdict).toMatchObject({ class: 'ok', detail: "finishReason: MAX_TOKENS (the canary's token cap)" });
  });

  it('calls an image canary that stopped at MAX_TOKENS without an image bad output and says why', () => {
    const { verdict } = evaluateGemini(geminiReply([], {}, 'MAX_TOKENS'), 'image');
    expect(verdict).toMatchObject({ class: 'bad_output', detail: 'finishReason: MAX_TOKENS' });
  });
});

describe('reading Gemini usage', () => {
  it('reads prompt and candidate tokens', () => {
    const { usage } = evaluateGemini(geminiReply([imagePart('image/png', PNG)]), 'image');
    expect(usage).toEqual({ inputTokens: 6, outputTokens: 1290, images: 1 });
  });

  it('adds thinking tokens to the output, since they are billed as output', () => {
    const reply = geminiReply([{ text: 'OK' }], {
      usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 1, thoughtsTokenCount: 120, totalTokenCount: 130 },
    });
    expect(evaluateGemini(reply, 'text').usage).toEqual({ inputTokens: 9, outputTokens: 121, images: 0 });
  });

  it('leaves token counts unknown when the reply has no usageMetadata', () => {
    const { usageMetadata: _, ...bare } = geminiReply([imagePart('image/png', PNG)]);
    expect(evaluateGemini(bare, 'image').usage).toEqual({ inputTokens: null, outputTokens: null, images: 1 });
  });
});

const chat = (
  message: Record<string, unknown>,
  finish = 'stop',
  usage: unknown = { prompt_tokens: 12, completion_tokens: 1290, total_tokens: 1302 },
) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gemini-2.5-flash-image',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
  usage,
});

describe('judging an OpenAI-compatible relay reply', () => {
  it('accepts a markdown data-URL image in the content', () => {
    const reply = chat({ content: `Here is a red square.\n\n![image](data:image/png;base64,${PNG})` });
    const { verdict, usage } = evaluateOpenAi(reply, 'image');
    expect(verdict).toMatchObject({ class: 'ok', detail: 'finish_reason: stop' });
    expect(usage).toEqual({ inputTokens: 12, outputTokens: 1290, images: 1 });
  });

  it('accepts images[] entries carrying an image_url data URL', () => {
    const reply = chat({
      content: '',
      images: [{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG}` } }],
    });
    const { verdict, usage } = evaluateOpenAi(reply, 'image');
    expect(verdict.class).toBe('ok');
    expect(usage.images).toBe(1);
  });

  it('accepts content given as an array of text and image parts', () => {
    const reply = chat({
      content: [
        { type: 'text', text: 'Here you go.' },
        { type: 'image_url', image_url: { url: `data:image/webp;base64,${WEBP}` } },
      ],
    });
    const { verdict, usage } = evaluateOpenAi(reply, 'image');
    expect(verdict.class).toBe('ok');
    expect(usage.images).toBe(1);
  });

  it('accepts a markdown image linked by https URL', () => {
    const reply = chat({ content: '![image](https://relay.example.com/files/abc123.png)' });
    const { verdict, usage } = evaluateOpenAi(reply, 'image');
    expect(verdict.class).toBe('ok');
    expect(usage.images).toBe(1);
  });

  it('calls a data-URL image whose bytes are no image bad output', () => {
    const reply = chat({ content: `![image](data:image/png;base64,${NOT_AN_IMAGE})` });
    const { verdict, usage } = evaluateOpenAi(reply, 'image');
    expect(verdict).toMatchObject({ class: 'bad_output', message: 'image data is not a PNG, JPEG or WebP' });
    expect(usage.images).toBe(0);
  });

  it('calls a text-only answer to an image canary bad output', () => {
    const { verdict } = evaluateOpenAi(chat({ content: 'I cannot draw that.' }), 'image');
    expect(verdict).toMatchObject({ class: 'bad_output', message: 'no image in reply', detail: 'finish_reason: stop' });
  });

  it('calls a content-filtered empty answer bad output, naming the finish reason', () => {
    const { verdict } = evaluateOpenAi(chat({ content: null }, 'content_filter'), 'image');
    expect(verdict).toMatchObject({ class: 'bad_output', detail: 'finish_reason: content_filter' });
  });

  it('accepts a text answer to a text canary and rejects an empty one', () => {
    const usage = { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 };
    const ok = evaluateOpenAi(chat({ content: 'OK' }, 'stop', usage), 'text');
    expect(ok.verdict.class).toBe('ok');
    expect(ok.usage).toEqual({ inputTokens: 10, outputTokens: 1, images: 0 });
    expect(evaluateOpenAi(chat({ content: '' }, 'stop', usage), 'text').verdict).toMatchObject({
      class: 'bad_output',
      message: 'no text in reply',
    });
  });

  it('does not count the markdown around an image as text', () => {
    const { verdict } = evaluateOpenAi(chat({ content: `![image](data:image/png;base64,${NOT_AN_IMAGE})` }), 'text');
    expect(verdict.class).toBe('bad_output');
  });

  it('calls a reply with no choices bad output', () => {
    expect(evaluateOpenAi({ object: 'chat.completion', choices: [] }, 'text').verdict).toMatchObject({
      class: 'bad_output',
      message: 'no choices in reply',
    });
  });

  it('leaves token counts unknown when the relay reports no usage', () => {
    const { usage } = evaluateOpenAi(
      chat({ content: `![image](data:image/png;base64,${PNG})` }, 'stop', null),
      'image',
    );
    expect(usage).toEqual({ inputTokens: null, outputTokens: null, images: 1 });
  });
});
