"""The ``Grader``: the one entry point that turns (question, answer) into a ``GradeResult``.

It composes the parts and owns none of their policies: questions resolve through the bank or
``grader.adhoc``, answers are embedded by ``grader.encoding``, evidence is gathered by
``grader.evidence``, a ``Critic`` judges, and ``grader.scoring`` scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.__version__ import __version__
from grader.adhoc import AdhocQuestion, rubric_from_adhoc
from grader.bank import QuestionBank
from grader.critic import Critic, CritiqueRequest, FallbackCritic, OfflineCritic
from grader.embedding import Embedder, EmbeddingCache, SentenceTransformerEmbedder
from grader.encoding import AnswerEncoder, EncodedAnswer, RubricVectorCache
from grader.errors import (
    CriticUnavailableError,
    GraderError,
    InvalidAnswerError,
    MissingExtraError,
)
from grader.evidence import AnswerParts, Evidence, gather_evidence
from grader.result import (
    CriterionResult,
    CriticChoice,
    GradeResult,
    MisconceptionResult,
    Signals,
    Versions,
)
from grader.rubric import Rubric
from grader.scoring import coverage, needs_review, score_answer, verdict
from grader.settings import Settings
from grader.text import token_overlap, words

QuestionRef = str | Rubric | AdhocQuestion


@dataclass(frozen=True)
class GradeItem:
    """One answer to grade, for ``Grader.grade_many``."""

    question: QuestionRef
    answer: str
    critic: CriticChoice = "auto"


@dataclass(frozen=True)
class PreparedAnswer:
    """An answer with its evidence gathered, ready for its critic (``Grader.finish``)."""

    rubric: Rubric
    parts: AnswerParts
    evidence: Evidence
    critic: Critic


class Grader:
    """Grades answers against rubrics.

    ``settings`` are taken as given (``Settings()`` reads the environment; the library never
    does on its own): without them, the defaults apply.

    ```python
    grader = Grader.from_settings(Settings())
    grader.grade("adam-optimizer", "Adam combines momentum with RMSprop...").verdict
    ```
    """

    def __init__(
        self,
        bank: QuestionBank,
        embedder: Embedder,
        *,
        llm_critic: Critic | None = None,
        settings: Settings | None = None,
        embedding_cache: EmbeddingCache | None = None,
    ) -> None:
        self.bank = bank
        self.embedder = embedder
        self.settings = settings or Settings.defaults()
        self.scoring = self.settings.scoring
        self.offline_critic: Critic = OfflineCritic()
        self.llm_critic = llm_critic
        self._llm_with_fallback = (FallbackCritic(llm_critic, self.offline_critic)
                                   if llm_critic is not None else None)
        self._rubric_vectors = RubricVectorCache(embedder, embedding_cache)
        self._answers = AnswerEncoder(embedder)

    @classmethod
    def from_settings(cls, settings: Settings) -> Grader:
        """The default wiring: bank from the rubric folder, cached sentence-transformers model,
        and the LLM critic when one is configured (checked first: it fails faster)."""
        llm_critic = None
        if settings.llm_configured:
            try:  # imported lazily: only needed with an LLM
                from grader.llm import LLMCritic
            except ImportError as error:
                raise MissingExtraError("The LLM critic (GRADER_LLM_MODEL)", "llm", error
                                        ) from error
            llm_critic = LLMCritic.from_settings(settings)
        bank = QuestionBank.from_dir(settings.rubrics_dir)
        model = SentenceTransformerEmbedder(
            settings.embedding_model,
            device=settings.embedding_device,
            batch_size=settings.embedding_batch_size,
        )
        cache = EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite3")
        return cls(bank, model, llm_critic=llm_critic, settings=settings, embedding_cache=cache)

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, question: QuestionRef) -> Rubric:
        """A rubric for a question id, an ad-hoc question or a rubric given directly."""
        if isinstance(question, Rubric):
            return question
        if isinstance(question, AdhocQuestion):
            return rubric_from_adhoc(question)
        return self.bank.get(question)

    def critic_for(self, choice: CriticChoice) -> Critic:
        """The critic a choice resolves to: ``auto`` is the LLM (falling back to offline) when
        one is configured, else offline. Raises ``CriticUnavailableError`` for ``llm`` without
        one."""
        if choice == "offline" or (choice == "auto" and self._llm_with_fallback is None):
            return self.offline_critic
        if self._llm_with_fallback is None:
            raise CriticUnavailableError()
        return self._llm_with_fallback

    def check_answer(self, answer: object) -> None:
        """Raise ``InvalidAnswerError`` for an answer that cannot be graded as given."""
        if not isinstance(answer, str):
            raise InvalidAnswerError(f"The answer must be text, not {type(answer).__name__}.")
        limit = self.settings.max_answer_chars
        if len(answer) > limit:
            raise InvalidAnswerError(
                f"The answer is {len(answer):,} characters; the limit is {limit:,}. "
                "Shorten it or raise GRADER_MAX_ANSWER_CHARS.",
                length=len(answer), limit=limit,
            )

    def warm_up(self) -> None:
        """Embed every rubric in the bank now, so the first request does not pay for it."""
        self._rubric_vectors.get(list(self.bank))

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
        return [entry if isinstance(entry, GraderError) else self.finish(entry)
                for entry in self.prepare_many(items)]

    def prepare_many(self, items: Sequence[GradeItem]) -> list[PreparedAnswer | GraderError]:
        """The embedding half of ``grade_many``: one pass of the model over every answer.

        ``finish`` each result to grade it; the critics (an LLM's slow calls) can then run
        apart from the model, on other threads.
        """
        prepared: list[tuple[Rubric, AnswerParts, Critic] | GraderError] = []
        for item in items:
            try:
                rubric = self.resolve(item.question)
                self.check_answer(item.answer)
                critic = self.critic_for(item.critic)
            except GraderError as error:
                prepared.append(error)
                continue
            prepared.append((rubric, AnswerParts.of(item.answer, rubric.question), critic))

        ready = [entry for entry in prepared if not isinstance(entry, GraderError)]
        vectors = self._rubric_vectors.get([rubric for rubric, _, _ in ready])
        dimension = len(next(iter(vectors.values())).question) if vectors else 0
        encoded = iter(self._answers.encode(
            [(parts, rubric.question) for rubric, parts, _ in ready], dimension))

        results: list[PreparedAnswer | GraderError] = []
        for entry in prepared:
            if isinstance(entry, GraderError):
                results.append(entry)
                continue
            rubric, parts, critic = entry
            answer: EncodedAnswer = next(encoded)
            evidence = gather_evidence(
                parts.passage_texts, answer.pooled.passages, answer.pooled.whole,
                vectors[rubric.content_hash], self.scoring,
                demoted_vectors=answer.pooled.demoted, word_vectors=answer.word_vectors,
            )
            results.append(PreparedAnswer(rubric, parts, evidence, critic))
        return results

    def finish(self, prepared: PreparedAnswer) -> GradeResult:
        """The critic's half of ``grade_many``: judge, score and explain a prepared answer."""
        rubric, parts, evidence = prepared.rubric, prepared.parts, prepared.evidence
        critic = prepared.critic
        answer = parts.answer
        critique = critic.critique(CritiqueRequest(rubric, answer, evidence, self.scoring))
        statuses = [judgement.status for judgement in critique.criteria]
        weights = [criterion.weight for criterion in rubric.criteria]
        found = {m.id: m.evidence for m in critique.misconceptions}
        credits = [j.credit for j in critique.criteria]
        answer_words = len(words(answer))
        scored = score_answer(
            statuses, weights,
            None if None in credits else [c for c in credits if c is not None],
            reference_strength=evidence.reference_strength, misconceptions_found=len(found),
            answer_words=answer_words, new_words=len(parts.words), config=self.scoring,
        )
        flags = [*critique.flags, *scored.flags]
        review = needs_review(
            flags, weights, statuses if critique.info.kind == "llm" else None,
            [m.strength for m in evidence.criteria], self.scoring,
        )

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
            score=scored.score,
            verdict=verdict(scored.score, self.settings.pass_threshold,
                            self.settings.borderline_threshold),
            criteria=criteria,
            misconceptions=misconceptions,
            feedback=critique.feedback,
            critic=critique.info,
            needs_review=review,
            flags=flags,
            signals=Signals(
                reference_similarity=evidence.reference_similarity,
                reference_strength=evidence.reference_strength,
                coverage=round(coverage(statuses, weights), 4),
                question_similarity=evidence.question_similarity,
                question_overlap=round(token_overlap(answer, rubric.question), 4),
                answer_words=answer_words,
            ),
            versions=Versions(
                grader=__version__,
                rubric_hash=rubric.content_hash,
                embedding_model=self.embedder.model_name,
            ),
        )
