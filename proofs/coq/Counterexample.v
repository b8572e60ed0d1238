(** Why uv_sharpness_at_most_2 needs f_t <> 0 for every t: with
    n = d = |x| = eta = 1, u^2 + v^2 = 7/2 and uv = sqrt(5/2) (so f_0 = sqrt(5/2),
    lam_0 = |θ_0|^2 = 7/2, inside the window: eta K |θ_0|^2 = 7/2 < 4), one step
    of the uv map lands on f_1 = 0 with eta lam_1 = 9/4 > 2, a fixed point.
    Every other hypothesis holds, so the statement without f_t <> 0 is false. *)

From Coquelicot Require Import Coquelicot.
Require Import Reals Lra Psatz.
From Catapult Require Import Generated.
Open Scope R_scope.

Definition ce_f (t : nat) : R := match t with O => sqrt (5 / 2) | S _ => 0 end.
Definition ce_lam (t : nat) : R := match t with O => 7 / 2 | S _ => 9 / 4 end.

Lemma ce_sqrt : sqrt (5 / 2) * sqrt (5 / 2) = 5 / 2.
Proof. apply sqrt_sqrt. lra. Qed.

Theorem uv_sharpness_needs_f_nonzero : ~ (forall (f lam w : nat -> R) (eta x2 n : R),
  0 < eta -> 0 < x2 -> 0 < n ->
  (forall t, f (S t) = uv_f_next eta x2 n (f t) (lam t)) ->
  (forall t, lam (S t) = uv_lam_next eta x2 n (f t) (lam t)) ->
  (forall t, w (S t) = uv_w2_next eta (f t) (lam t) (w t)) ->
  0 <= lam 0%nat -> lam 0%nat <= ntk_rhs_uv_lemma x2 n (w 0%nat) ->
  4 * K_uv_lemma x2 n * f 0%nat ^ 2 <= lam 0%nat ^ 2 ->
  eta * K_uv_lemma x2 n * w 0%nat < 4 ->
  forall lam_inf : R, is_lim_seq lam lam_inf -> eta * lam_inf <= 2).
Proof.
  intro H. pose proof ce_sqrt as Hs.
  assert (Hs2 : sqrt (5 / 2) ^ 2 = 5 / 2) by (unfold pow; rewrite Rmult_1_r; exact Hs).
  assert (Hlim : is_lim_seq ce_lam (9 / 4)).
  { apply is_lim_seq_incr_1. apply is_lim_seq_const. }
  assert (Hf : forall t, ce_f (S t) = uv_f_next 1 1 1 (ce_f t) (ce_lam t)).
  { intros [| t]; unfold uv_f_next; cbn [ce_f ce_lam]; [rewrite Hs2 | idtac]; field. }
  assert (Hl : forall t, ce_lam (S t) = uv_lam_next 1 1 1 (ce_f t) (ce_lam t)).
  { intros [| t]; unfold uv_lam_next; cbn [ce_f ce_lam]; [| field].
    transitivity (sqrt (5 / 2) ^ 2 * (- 1 / 2) + 7 / 2); [rewrite Hs2; field | field]. }
  assert (Hw : forall t, ce_lam (S t) = uv_w2_next 1 (ce_f t) (ce_lam t) (ce_lam t)).
  { intros [| t]; unfold uv_w2_next; cbn [ce_f ce_lam]; [| field].
    transitivity (sqrt (5 / 2) ^ 2 * (- 1 / 2) + 7 / 2); [rewrite Hs2; field | field]. }
  specialize (H ce_f ce_lam ce_lam 1 1 1 Rlt_0_1 Rlt_0_1 Rlt_0_1 Hf Hl Hw).
  assert (H9 : 1 * (9 / 4) <= 2).
  { apply H; try assumption; unfold ntk_rhs_uv_lemma, K_uv_lemma; cbn [ce_f ce_lam];
    try rewrite Hs2; lra. }
  lra.
Qed.
