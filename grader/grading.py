"""The ``Grader``: the one entry point that turns (question, answer) into a ``GradeResult``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from grader.adhoc import AdhocQuestion, rubric_from_adhoc
from grader.bank import QuestionBank
from grader.critic import Critic, Critique, CritiqueRequest, OfflineCritic
from grader.embedding import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    MemoryCachedEmbedder,
    SentenceTransformerEmbedder,
    join_tokens,
)
from grader.errors import CriticError, CriticUnavailableError, GraderError, InvalidAnswerError
from grader.pooling import PooledText, pool
from grader.result import (
    CriterionResult,
    CriticChoice,
    CriticInfo,
    GradeResult,
    MisconceptionResult,
    Signals,
    Verdict,
    Versions,
)
from grader.rubric import Rubric
from grader.scoring import (
    AnswerParts,
    Evidence,
    RubricVectors,
    ScoringConfig,
    combine,
    coverage,
    criterion_credit,
    gather_evidence,
    status_from_strength,
)
from grader.settings import Settings
from grader.text import token_overlap, words

try:
    GRADER_VERSION = version("grader")
except PackageNotFoundError:  # running from a source tree that was never installed
    GRADER_VERSION = "0+unknown"

QuestionRef = str | Rubric | AdhocQuestion

#: Characters of answers embedded in one call to the model (see ``Grader._pool_answers``).
CHARS_PER_PASS = 200_000


@dataclass(frozen=True)
class GradeItem:
    """One answer to grade, for ``Grader.grade_many``."""

    question: QuestionRef
    answer: str
    critic: CriticChoice = "auto"


class Grader:
    """Grades answers against rubrics.

    >>> grader = Grader.from_settings(Settings())                # doctest: +SKIP
    >>> grader.grade("adam-optimizer", "Adam combines momentum with RMSprop...").verdict
    'pass'
    """

    def __init__(
        self,
        bank: QuestionBank,
        embedder: Embedder,
        *,
        llm_critic: Critic | None = None,
        settings: Settings | None = None,
        scoring: ScoringConfig | None = None,
        embedding_cache: EmbeddingCache | None = None,
    ) -> None:
        self.bank = bank
        self.embedder = embedder
        # Only rubric texts go through the disk cache; candidate answers are never stored.
        self._rubric_embedder: Embedder = (
            CachedEmbedder(embedder, embedding_cache) if embedding_cache else embedder
        )
        self._word_embedder = MemoryCachedEmbedder(embedder)
        self.settings = settings or Settings()
        self.scoring = scoring or self.settings.scoring
        self.offline_critic = OfflineCritic(self.scoring)
        self.llm_critic = llm_critic
        self._rubric_vectors: dict[str, RubricVectors] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Grader:
        """The default wiring: bank from the rubric folder, cached sentence-transformers model."""
        bank = QuestionBank.from_dir(settings.rubrics_dir)
        model = SentenceTransformerEmbedder(
            settings.embedding_model,
            device=settings.embedding_device,
            batch_size=settings.embedding_batch_size,
        )
        cache = EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite3")
        llm_critic = None
        if settings.llm_configured:
            from grader.llm import LLMCritic  # imported lazily: only needed with an LLM

            llm_critic = LLMCritic.from_settings(settings)
        return cls(bank, model, llm_critic=llm_critic, settings=settings, embedding_cache=cache)

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, question: QuestionRef) -> Rubric:
        """A rubric for a question id, an ad-hoc question or a rubric given directly."""
        if isinstance(question, Rubric):
            return question
        if isinstance(question, AdhocQuestion):
            return rubric_from_adhoc(question)
        return self.bank.get(question)

    def warm_up(self) -> None:
        """Embed every rubric in the bank now, so the first request does not pay for it."""
        self._vectors_for(list(self.bank))

    def grade(self, question: QuestionRef, answer: str, *, critic: CriticChoice = "auto"
              ) -> GradeResult:
        """Grade one answer. Raises ``GraderError`` subclasses for input it cannot grade."""
        result = self.grade_many([GradeItem(question, answer, critic)])[0]
        if isinstance(result, GraderError):
            raise result
        return result

    def grade_many(self, items: Sequence[GradeItem]) -> list[GradeResult | GraderError]:
        """Grade many answers with one pass of the model over them (more for very long input).

        Returns one ``GradeResult`` or one ``GraderError`` per item, in order.
        """
        prepared: list[tuple[Rubric, AnswerParts] | GraderError] = []
        for item in items:
            try:
                rubric = self.resolve(item.question)
                self._check_answer(item.answer)
                self._critic_for(item.critic)
            except GraderError as error:
                prepared.append(error)
                continue
            prepared.append((rubric, AnswerParts.of(item.answer, rubric.question)))

        ready = [p for p in prepared if not isinstance(p, GraderError)]
        rubric_vectors = self._vectors_for([rubric for rubric, _ in ready])
        pooled_texts = iter(self._pool_answers(ready, rubric_vectors))
        # Words repeat across answers, so their vectors come from a bounded in-memory cache.
        all_words = list(dict.fromkeys(word for _, parts in ready for word in parts.words))
        word_vectors = dict(zip(all_words, self._word_embedder.embed(all_words), strict=True)
                            ) if all_words else {}

        results: list[GradeResult | GraderError] = []
        for entry, item in zip(prepared, items, strict=True):
            if isinstance(entry, GraderError):
                results.append(entry)
                continue
            rubric, parts = entry
            vectors = rubric_vectors[rubric.content_hash]
            pooled = next(pooled_texts)
            evidence = gather_evidence(
                parts.units, pooled.spans, pooled.whole, vectors, self.scoring,
                demoted_vectors=pooled.demoted,
                word_vectors=np.array([word_vectors[word] for word in parts.words],
                                      dtype=np.float32).reshape(-1, len(pooled.whole)),
            )
            results.append(self._finish(rubric, parts, evidence, item.critic))
        return results

    # -- internals ----------------------------------------------------------------------------

    def _pool_answers(self, ready: list[tuple[Rubric, AnswerParts]],
                      rubric_vectors: dict[str, RubricVectors]) -> list[PooledText]:
        """One pass of the model over each answer's sentences, pooled into clauses and more.

        Each sentence is embedded on its own, so what one sentence says does not colour
        another's vector (unrelated text appended as new sentences cannot lift the others); its
        clauses are pooled from its tokens. Sentences go to the model in groups of at most
        ``CHARS_PER_PASS`` characters: a large group sorts by length with little padding, and the
        token vectors held at once stay bounded (about 75 MB) however many or long the answers
        are.
        """
        groups: list[list[tuple[Rubric, AnswerParts]]] = [[]]
        size = 0
        for entry in ready:
            if groups[-1] and size + len(entry[1].answer) > CHARS_PER_PASS:
                groups.append([])
                size = 0
            groups[-1].append(entry)
            size += len(entry[1].answer)
        pooled: list[PooledText] = []
        for group in groups:
            texts = [parts.answer[start:end] for _, parts in group
                     for start, end in parts.sentences]
            tokens = iter(self.embedder.embed_tokens(texts) if texts else [])
            for rubric, parts in group:
                answer_tokens = join_tokens([next(tokens) for _ in parts.sentences],
                                            [start for start, _ in parts.sentences],
                                            len(rubric_vectors[rubric.content_hash].question))
                pooled.append(pool(parts.answer, answer_tokens, parts.spans,
                                   set(words(rubric.question))))
        return pooled

    def _check_answer(self, answer: object) -> None:
        if not isinstance(answer, str):
            raise InvalidAnswerError(f"The answer must be text, not {type(answer).__name__}.")
        if len(answer) > self.settings.max_answer_chars:
            raise InvalidAnswerError(
                f"The answer is {len(answer):,} characters; the limit is "
                f"{self.settings.max_answer_chars:,}. Shorten it or raise GRADER_MAX_ANSWER_CHARS."
            )

    def _critic_for(self, choice: CriticChoice) -> Critic:
        if choice == "offline" or (choice == "auto" and self.llm_critic is None):
            return self.offline_critic
        if self.llm_critic is None:
            raise CriticUnavailableError(
                "critic 'llm' was requested but no LLM is configured: set GRADER_LLM_MODEL "
                "(and GRADER_LLM_BASE_URL, GRADER_LLM_API_KEY), or use critic 'auto' or 'offline'."
            )
        return self.llm_critic

    def _vectors_for(self, rubrics: list[Rubric]) -> dict[str, RubricVectors]:
        with self._lock:
            known = self._rubric_vectors
            missing = {r.content_hash: r for r in rubrics if r.content_hash not in known}
        if missing:
            texts = [RubricVectors.texts(rubric) for rubric in missing.values()]
            flat = self._rubric_embedder.embed([text for group in texts for text in group])
            tokens = iter(self._rubric_embedder.embed_tokens(
                [ref for rubric in missing.values() for ref in rubric.reference_answers]))
            start, computed = 0, {}
            for (key, rubric), group in zip(missing.items(), texts, strict=True):
                computed[key] = RubricVectors.build(
                    rubric, flat[start : start + len(group)],
                    [next(tokens) for _ in rubric.reference_answers])
                start += len(group)
            with self._lock:
                self._rubric_vectors.update(computed)
        with self._lock:
            return {r.content_hash: self._rubric_vectors[r.content_hash] for r in rubrics}

    def _critique(self, request: CritiqueRequest, choice: CriticChoice) -> Critique:
        critic = self._critic_for(choice)
        if critic is self.offline_critic:
            return critic.critique(request)
        try:
            return critic.critique(request)
        except CriticError as error:
            fallback = self.offline_critic.critique(request)
            info = CriticInfo(kind="offline", fallback_reason=str(error), usage=error.usage,
                              model=error.model)
            return Critique(criteria=fallback.criteria, misconceptions=fallback.misconceptions,
                            feedback=fallback.feedback, info=info, flags=error.flags)

    def _finish(self, rubric: Rubric, parts: AnswerParts, evidence: Evidence,
                choice: CriticChoice) -> GradeResult:
        answer = parts.answer
        critique = self._critique(CritiqueRequest(rubric, answer, evidence), choice)
        statuses = [judgement.status for judgement in critique.criteria]
        weights = [criterion.weight for criterion in rubric.criteria]
        found = {m.id: m.evidence for m in critique.misconceptions}
        credits = [j.credit for j in critique.criteria]
        score = combine(statuses, weights, evidence.reference_strength, len(found), self.scoring,
                        None if None in credits else [c for c in credits if c is not None])

        flags = list(critique.flags)
        overlap = token_overlap(answer, rubric.question)
        if not words(answer):
            flags.append("empty")
            score = 0.0
        elif len(parts.words) <= self.scoring.restated_question_new_words:
            flags.append("restates_question")
            score = min(score, self.scoring.restated_question_cap)
        elif evidence.reference_strength < self.scoring.off_topic_match and not found and not any(
            s in ("met", "partial") for s in statuses
        ):
            flags.append("off_topic")

        needs_review = "injection_suspected" in flags
        if critique.info.kind == "llm":
            # the offline critic's view of the same answer: its statuses and graded credit
            embedding_statuses = [status_from_strength(m.strength, self.scoring)
                                  for m in evidence.criteria]
            embedding_credits = [criterion_credit(m.strength, self.scoring)
                                 for m in evidence.criteria]
            gap = abs(coverage(embedding_statuses, weights, embedding_credits)
                      - coverage(statuses, weights))
            needs_review = needs_review or gap > self.scoring.review_disagreement

        matches = dict(zip((c.id for c in rubric.criteria), evidence.criteria, strict=True))
        criteria = [
            CriterionResult(
                id=criterion.id, description=criterion.description, weight=criterion.weight,
                status=judgement.status, evidence=judgement.evidence,
                similarity=matches[criterion.id].similarity,
                strength=matches[criterion.id].strength, reason=judgement.reason,
            )
            for criterion, judgement in zip(rubric.criteria, critique.criteria, strict=True)
        ]
        misconceptions = [
            MisconceptionResult(
                id=m.id, claim=m.claim, why_wrong=m.why_wrong,
                evidence=found[m.id], similarity=match.similarity,
            )
            for m, match in zip(rubric.misconceptions, evidence.misconceptions, strict=True)
            if m.id in found
        ]
        return GradeResult(
            question_id=rubric.id,
            score=score,
            verdict=self._verdict(score),
            criteria=criteria,
            misconceptions=misconceptions,
            feedback=critique.feedback,
            critic=critique.info,
            needs_review=needs_review,
            flags=flags,
            signals=Signals(
                reference_similarity=evidence.reference_similarity,
                reference_strength=evidence.reference_strength,
                coverage=round(coverage(statuses, weights), 4),
                question_similarity=evidence.question_similarity,
                question_overlap=round(overlap, 4),
                answer_words=len(words(answer)),
            ),
            versions=Versions(
                grader=GRADER_VERSION,
                rubric_hash=rubric.content_hash,
                embedding_model=self.embedder.model_name,
            ),
        )

    def _verdict(self, score: float) -> Verdict:
        if score >= self.settings.pass_threshold:
            return "pass"
        if score >= self.settings.borderline_threshold:
            return "borderline"
        return "fail"
