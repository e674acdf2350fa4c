"""The ``Grader``: the one entry point that turns (question, answer) into a ``GradeResult``.

It composes the parts and owns none of their policies: questions resolve through the bank or
``grader.adhoc``, answers are embedded by ``grader.encoding``, evidence is gathered by
``grader.evidence``, a ``Critic`` judges, and ``grader.scoring`` scores.

Every answer's failure stays its own: ``grade_many`` returns one result or one error per item,
whatever goes wrong with its neighbours.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.__version__ import __version__
from grader.adhoc import AdhocQuestion, rubric_from_adhoc
from grader.bank import QuestionBank
from grader.critic import Critic, CritiqueRequest, FallbackCritic, OfflineCritic
from grader.embedders import make_embedder
from grader.embedding import Embedder, EmbeddingCache
from grader.encoding import AnswerEncoder, RubricVectorCache
from grader.errors import (
    CriticUnavailableError,
    GraderError,
    GradingFailedError,
    InvalidAnswerError,
    InvalidQuestionError,
    MissingExtraError,
)
from grader.evidence import AnswerParts, Evidence, gather_evidence
from grader.judge import criterion_features, default_judge
from grader.result import (
    CriterionResult,
    CriticChoice,
    GradeResult,
    MisconceptionResult,
    QuestionSource,
    Signals,
    Versions,
)
from grader.rubric import Rubric
from grader.score_calibration import default_calibration
from grader.scoring import coverage, needs_review, score_answer, verdict
from grader.settings import Settings
from grader.text import token_overlap, words
from grader.word_vectors import HasWordTable

QuestionRef = str | Rubric | AdhocQuestion

logger = logging.getLogger(__name__)


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
    source: QuestionSource

    @property
    def offline(self) -> bool:
        """Its critic is the offline one: finishing it is quick and calls no LLM."""
        return isinstance(self.critic, OfflineCritic)


@dataclass(frozen=True)
class _Checked:
    """An answer that passed the checks, waiting for the embedding pass."""

    rubric: Rubric
    parts: AnswerParts
    critic: Critic
    source: QuestionSource


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
        judge = default_judge() if self.scoring.offline_judge else None
        self.offline_critic: Critic = OfflineCritic(judge)
        self._judge_version = judge.version if judge else None
        self._calibration = default_calibration() if self.scoring.calibrate_score else None
        # the raw score's mix that the calibration was fitted on, for the answers it applies to
        self._calibrated_scoring = (self._calibration.scoring(self.scoring)
                                    if self._calibration else self.scoring)
        self.llm_critic = llm_critic
        self._llm_with_fallback = (FallbackCritic(llm_critic, self.offline_critic)
                                   if llm_critic is not None else None)
        self._rubric_vectors = RubricVectorCache(
            embedder, embedding_cache, bank_hashes=[rubric.content_hash for rubric in bank])
        self._answers = AnswerEncoder(embedder)

    @classmethod
    def from_settings(cls, settings: Settings, *, bank: QuestionBank | None = None) -> Grader:
        """The default wiring: bank from the rubric folder (or ``bank``, already loaded from
        it), cached sentence-transformers model, and the LLM critic when one is configured
        (checked first: it fails faster)."""
        llm_critic = None
        if settings.llm_configured:
            try:  # imported lazily: only needed with an LLM
                from grader.llm import LLMCritic
            except ImportError as error:
                raise MissingExtraError("The LLM critic (GRADER_LLM_MODEL)", "llm", error
                                        ) from error
            llm_critic = LLMCritic.from_settings(settings)
        bank = bank if bank is not None else QuestionBank.from_dir(settings.rubrics_dir)
        model = make_embedder(settings)  # the backend GRADER_EMBEDDING_BACKEND names
        cache = EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite3")
        return cls(bank, model, llm_critic=llm_critic, settings=settings, embedding_cache=cache)

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, question: QuestionRef) -> Rubric:
        """A rubric for a question id, an ad-hoc question or a rubric given directly.

        Raises ``InvalidQuestionError`` for an ad-hoc question whose id is a bank question's
        id, and for a rubric given directly that takes a bank id but is not that bank rubric:
        a result that names a bank question always comes from the bank's rubric.
        """
        if isinstance(question, str):
            return self.bank.get(question)
        rubric = question if isinstance(question, Rubric) else rubric_from_adhoc(question)
        if rubric.id in self.bank and (
                isinstance(question, AdhocQuestion)
                or self.bank.get(rubric.id).content_hash != rubric.content_hash):
            raise InvalidQuestionError([
                f"id {rubric.id!r} is the id of a question in the bank; give the ad-hoc question "
                "another id (or none, and one is derived from its text), or grade the bank "
                "question by its question_id"])
        return rubric

    def source_of(self, rubric: Rubric) -> QuestionSource:
        """``bank`` for a rubric from the bank, ``adhoc`` for any other (after ``resolve``)."""
        return "bank" if rubric.id in self.bank else "adhoc"

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
        try:  # only a lone surrogate (half of a UTF-16 pair) cannot be encoded
            answer.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidAnswerError(
                f"The answer has a lone surrogate (U+{ord(answer[error.start]):04X}) at "
                f"character {error.start:,}, which is not valid Unicode text; send the answer "
                "as UTF-8 text.") from None

    def warm_up(self) -> None:
        """Embed every rubric in the bank now, and build the word table if it is missing, so
        the first requests do not pay for them. Without the table every word's first
        appearance costs a text for the model: a 360-word answer took 558 ms at first and
        93 ms once its words were known (ONNX backend). Both are cached in ``cache_dir``."""
        self._rubric_vectors.get(list(self.bank))
        if isinstance(self.embedder, HasWordTable):
            self.embedder.word_table.prepare()

    def grade(self, question: QuestionRef, answer: str, *, critic: CriticChoice = "auto"
              ) -> GradeResult:
        """Grade one answer. Raises ``GraderError`` subclasses for input it cannot grade."""
        result = self.grade_many([GradeItem(question, answer, critic)])[0]
        if isinstance(result, GraderError):
            raise result
        return result

    def grade_many(self, items: Sequence[GradeItem]) -> list[GradeResult | GraderError]:
        """Grade many answers with one pass of the model over them (more for very long input).

        Returns one ``GradeResult`` or one ``GraderError`` per item, in order; it does not
        raise for any one item (see ``prepare_many`` and ``finish``).
        """
        results: list[GradeResult | GraderError] = []
        for entry in self.prepare_many(items):
            try:
                results.append(entry if isinstance(entry, GraderError) else self.finish(entry))
            except GraderError as error:
                results.append(error)
        return results

    def prepare_many(self, items: Sequence[GradeItem]) -> list[PreparedAnswer | GraderError]:
        """The embedding half of ``grade_many``: one pass of the model over every answer.

        ``finish`` each result to grade it; the critics (an LLM's slow calls) can then run
        apart from the model, on other threads.

        One answer never fails another: an item that fails a check gets its error in its place,
        and when the shared pass fails the items are tried again in halves, down to the one
        that fails (about 2·log2(n) more passes for one bad item among n). A failure no check
        foresaw becomes that item's ``GradingFailedError``.
        """
        checked = [self._check(item) for item in items]
        embedded = iter(self._embed_apart(
            [entry for entry in checked if isinstance(entry, _Checked)]))
        return [entry if isinstance(entry, GraderError) else next(embedded) for entry in checked]

    def _check(self, item: GradeItem) -> _Checked | GraderError:
        try:
            rubric = self.resolve(item.question)
            self.check_answer(item.answer)
            critic = self.critic_for(item.critic)
            return _Checked(rubric, AnswerParts.of(item.answer, rubric.question), critic,
                            self.source_of(rubric))
        except Exception as error:  # this item's error, whatever it is
            return _item_error(error)

    def _embed_apart(self, ready: list[_Checked]) -> list[PreparedAnswer | GraderError]:
        """``_embed`` over every item; if that fails, over each half, until only the items
        that fail on their own are left, each with its error."""
        if not ready:
            return []
        try:
            return list(self._embed(ready))
        except Exception as error:  # find the item it belongs to
            if len(ready) == 1:
                return [_item_error(error)]
        middle = len(ready) // 2
        return self._embed_apart(ready[:middle]) + self._embed_apart(ready[middle:])

    def _embed(self, ready: list[_Checked]) -> list[PreparedAnswer]:
        vectors = self._rubric_vectors.get([entry.rubric for entry in ready])
        dimension = len(next(iter(vectors.values())).question) if vectors else 0
        encoded = self._answers.encode(
            [(entry.parts, entry.rubric.question) for entry in ready], dimension)
        prepared = []
        for entry, answer in zip(ready, encoded, strict=True):
            rubric_vectors = vectors[entry.rubric.content_hash]
            evidence = gather_evidence(
                entry.parts.passage_texts, answer.pooled.passages, answer.pooled.whole,
                rubric_vectors, self.scoring,
                demoted_vectors=answer.pooled.demoted, word_vectors=answer.word_vectors,
            )
            if entry.source == "bank":  # the judge learned from bank rubrics, not derived ones
                evidence = replace(evidence, criterion_features=criterion_features(
                    entry.rubric, entry.parts, answer.pooled.passages, answer.pooled.whole,
                    answer.word_vectors, rubric_vectors, evidence))
            prepared.append(PreparedAnswer(entry.rubric, entry.parts, evidence, entry.critic,
                                           entry.source))
        return prepared

    def finish_offline(self, prepared: PreparedAnswer, reason: str) -> GradeResult:
        """``finish`` with the offline critic in place of the one chosen, saying why in
        ``critic.fallback_reason`` (the API does this when an LLM critique runs past its
        deadline)."""
        result = self.finish(replace(prepared, critic=self.offline_critic))
        return result.model_copy(update={
            "critic": result.critic.model_copy(update={"fallback_reason": reason})})

    def finish(self, prepared: PreparedAnswer) -> GradeResult:
        """The critic's half of ``grade_many``: judge, score and explain a prepared answer.

        Raises only ``GraderError``: a failure no check foresaw is a ``GradingFailedError``.
        """
        try:
            return self._finish(prepared)
        except GraderError:
            raise
        except Exception as error:  # this item's error, whatever it is
            raise _item_error(error) from error

    def _finish(self, prepared: PreparedAnswer) -> GradeResult:
        rubric, parts, evidence = prepared.rubric, prepared.parts, prepared.evidence
        critic = prepared.critic
        answer = parts.answer
        critique = critic.critique(CritiqueRequest(rubric, answer, evidence, self.scoring))
        statuses = [judgement.status for judgement in critique.criteria]
        weights = [criterion.weight for criterion in rubric.criteria]
        found = {m.id: m.evidence for m in critique.misconceptions}
        credits = [j.credit for j in critique.criteria]
        answer_words = len(words(answer))
        # fitted on bank answers graded by the judge: it fits bank questions, not ad-hoc ones
        calibration = self._calibration if prepared.source == "bank" else None
        mix = self._calibrated_scoring if calibration else self.scoring
        scored = score_answer(
            statuses, weights,
            None if None in credits else [c for c in credits if c is not None],
            reference_strength=evidence.reference_strength, misconceptions_found=len(found),
            answer_words=answer_words, new_words=len(parts.words), config=mix,
            calibrate=calibration.apply if calibration else None,
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
            source=prepared.source,
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
                raw_score=scored.raw,
            ),
            versions=Versions(
                grader=__version__,
                rubric_hash=rubric.content_hash,
                embedding_model=self.embedder.model_name,
                calibration=calibration.name if calibration else None,
                judge=(self._judge_version if critique.info.kind == "offline"
                       and evidence.criterion_features is not None else None),
            ),
        )


def _item_error(error: Exception) -> GraderError:
    """The error that stands in one item's place: a ``GraderError`` as it is; anything else is
    logged (with its traceback, never the answer) and becomes a ``GradingFailedError``."""
    if isinstance(error, GraderError):
        return error
    logger.error("grading one answer failed unexpectedly", exc_info=error)
    failed = GradingFailedError(error)
    failed.__cause__ = error
    return failed
