import type { AnswerCheck } from './answer-check';
import type { GenerationResult } from './worker/protocol';

/**
 * The conversation as the page shows it. An answer's words stream in as spans; once it is done
 * each word gets its probability (shade and tooltip) and, for a Shapes scene, its check mark.
 * data-state and data-words are what the end-to-end test reads.
 */
export class AnswerView {
  readonly element = document.createElement('div');
  private readonly text = document.createElement('div');
  private readonly meta = document.createElement('div');
  private readonly words: string[] = [];

  constructor(messages: HTMLElement) {
    this.element.className = 'message gpt';
    this.element.dataset.state = 'streaming';
    this.meta.className = 'meta';
    this.element.append(this.text, this.meta);
    messages.append(this.element);
  }

  addWord(word: string): void {
    const span = document.createElement('span');
    span.className = 'word';
    span.textContent = word;
    this.text.append(span, ' ');
    this.words.push(word);
    this.element.dataset.words = JSON.stringify(this.words);
    this.element.scrollIntoView({ block: 'nearest' });
  }

  finish(result: GenerationResult, check: AnswerCheck | undefined, summary: string | undefined): void {
    const spans = [...this.text.querySelectorAll<HTMLSpanElement>('.word')];
    spans.forEach((span, k) => {
      const p = result.probabilities[k];
      if (p !== undefined) {
        span.style.backgroundColor = `rgba(255, 193, 7, ${(1 - p) * 0.8})`;
        span.title = `p = ${p.toFixed(3)}`;
        span.dataset.p = p.toFixed(4);
      }
      const mark = check?.marks[k];
      if (mark) span.classList.add(mark);
    });
    const speed = `first token ${result.timeToFirstTokenMs.toFixed(0)} ms · ${result.tokensPerSecond.toFixed(1)} tokens/s`;
    this.meta.textContent = [result.stopped ? 'stopped' : undefined, speed, summary].filter(Boolean).join(' · ');
    this.element.dataset.ids = JSON.stringify(result.ids);
    this.element.dataset.ttftMs = String(result.timeToFirstTokenMs);
    this.element.dataset.tokensPerSecond = String(result.tokensPerSecond);
    this.element.dataset.state = result.stopped ? 'stopped' : 'done';
  }

  fail(message: string): void {
    this.meta.textContent = message;
    this.element.dataset.state = 'error';
  }

  get answer(): string {
    return this.words.join(' ');
  }
}

export function showQuestion(messages: HTMLElement, text: string): void {
  const element = document.createElement('div');
  element.className = 'message human';
  element.textContent = `> ${text}`;
  messages.append(element);
}
