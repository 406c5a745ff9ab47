//! Parity of the Burn encoder with Hugging Face transformers.
//!
//! Reference hidden states come from `scripts/reference/encoder_reference.py` and are committed
//! under `tests/fixtures/`, so these tests need no Python. Tolerance: 1e-4 absolute on every
//! real (unpadded) token; padded rows are meaningless in both implementations.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use burn_store::{ModuleStore, SafetensorsStore};
use muppet_core::MuppetHome;
use muppet_model::{EncoderInput, MixedPrecision, ModelType, load_pretrained};

type B = Flex;

const TOLERANCE: f32 = 1e-4;
const MINILM: &str = "all-MiniLM-L6-v2";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// The asset folder: `MUPPET_ASSETS`, else `$MUPPET_HOME/assets`, else `.muppet/assets` at the
/// repository root.
fn minilm_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    MuppetHome::from_env(|| repo.join(".muppet"))
        .assets()
        .join("models")
        .join(MINILM)
}

/// A reference batch written by the Python script.
struct Reference {
    input_ids: TensorData,
    token_type_ids: TensorData,
    attention_mask: TensorData,
    hidden: TensorData,
}

impl Reference {
    fn read(path: &Path) -> Self {
        let mut store = SafetensorsStore::from_file(path);
        let mut tensor = |name: &str| -> TensorData {
            store
                .get_snapshot(name)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .unwrap_or_else(|| panic!("{}: no tensor `{name}`", path.display()))
                .to_data()
                .unwrap_or_else(|e| panic!("{}: `{name}`: {e:?}", path.display()))
        };
        Self {
            input_ids: tensor("input_ids"),
            token_type_ids: tensor("token_type_ids"),
            attention_mask: tensor("attention_mask"),
            hidden: tensor("last_hidden_state"),
        }
    }

    fn input(&self, device: &burn::backend::flex::FlexDevice) -> EncoderInput<B> {
        let ints =
            |d: &TensorData| Tensor::<B, 2, Int>::from_data(d.clone().convert::<i32>(), device);
        EncoderInput {
            input_ids: ints(&self.input_ids),
            token_type_ids: ints(&self.token_type_ids),
            attention_mask: ints(&self.attention_mask),
        }
    }

    /// Largest absolute difference between `actual` and the reference over real tokens.
    fn max_abs_diff(&self, actual: &TensorData) -> f32 {
        self.abs_diff(actual).0
    }

    /// Largest and mean absolute difference between `actual` and the reference over real
    /// tokens.
    fn abs_diff(&self, actual: &TensorData) -> (f32, f32) {
        let [batch, seq, hidden] = [
            self.hidden.shape[0],
            self.hidden.shape[1],
            self.hidden.shape[2],
        ];
        assert_eq!(actual.shape, self.hidden.shape, "hidden state shape");
        let mask = self
            .attention_mask
            .clone()
            .convert::<i64>()
            .to_vec::<i64>()
            .expect("i64 mask");
        let expected = self.hidden.to_vec::<f32>().expect("f32 reference");
        let actual = actual.to_vec::<f32>().expect("f32 output");
        let mut worst = 0.0f32;
        let mut total = 0.0f64;
        let mut real_tokens = 0;
        for token in (0..batch * seq).filter(|&t| mask[t] == 1) {
            real_tokens += 1;
            let range = token * hidden..(token + 1) * hidden;
            for (a, e) in actual[range.clone()].iter().zip(&expected[range]) {
                assert!(a.is_finite(), "non-finite output at token {token}");
                worst = worst.max((a - e).abs());
                total += f64::from((a - e).abs());
            }
        }
        assert!(
            real_tokens > 0 && real_tokens < batch * seq,
            "the batch must mix real and padded tokens"
        );
        (worst, (total / (real_tokens * hidden) as f64) as f32)
    }
}

#[test]
fn minilm_matches_transformers() {
    let dir = minilm_dir();
    let device = Default::default();
    let (encoder, config) = load_pretrained::<B>(&dir, &device).unwrap_or_else(|e| {
        panic!(
            "cannot load {MINILM} from {}: {e}\n(the asset folder is $MUPPET_ASSETS, else \
             $MUPPET_HOME/assets, else .muppet/assets at the repository root)",
            dir.display()
        )
    });
    assert_eq!(config.model_type, ModelType::Bert);
    assert_eq!(encoder.d_model(), 384);

    let reference = Reference::read(&fixtures().join("minilm_reference.safetensors"));
    let hidden = encoder.forward(reference.input(&device)).into_data();
    let diff = reference.max_abs_diff(&hidden);
    println!("{MINILM}: max |burn - transformers| over real tokens = {diff:e}");
    assert!(diff <= TOLERANCE, "max abs diff {diff:e} > {TOLERANCE:e}");
}

/// Mixed precision (bf16 products over f32 weights) against the same f32 reference. Its
/// error is bf16 rounding, so the bound is set against PyTorch's own: transformers under
/// `torch.autocast("cpu", dtype=torch.bfloat16)` on this batch differs from its f32 output
/// by at most 0.0187 and 0.0022 on average over real tokens (torch 2.15, transformers
/// 5.24; hidden values average 0.31 in magnitude). Tolerance: twice PyTorch's error.
#[test]
fn minilm_in_mixed_bf16_errs_no_more_than_torch_autocast() {
    let device = Default::default();
    let (mut encoder, _) = load_pretrained::<B>(&minilm_dir(), &device).expect("MiniLM in the asset folder");
    encoder.set_mixed_precision(MixedPrecision::Bf16);
    let reference = Reference::read(&fixtures().join("minilm_reference.safetensors"));
    let (max, mean) = reference.abs_diff(&encoder.forward(reference.input(&device)).into_data());
    println!("{MINILM} in mixed bf16: |burn - transformers f32| max {max:e}, mean {mean:e}");
    assert!(max > TOLERANCE, "the products ran in bf16, so the output is off f32 by more than f32 noise");
    assert!(max <= 2.0 * 0.0187 && mean <= 2.0 * 0.0022, "max {max:e}, mean {mean:e}");
}

#[test]
fn tiny_roberta_matches_transformers() {
    let dir = fixtures().join("tiny_roberta");
    let device = Default::default();
    let (encoder, config) =
        load_pretrained::<B>(&dir, &device).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
    assert_eq!(config.model_type, ModelType::Roberta);
    assert_eq!(config.type_vocab_size, 1);

    let reference = Reference::read(&dir.join("reference.safetensors"));
    let hidden = encoder.forward(reference.input(&device)).into_data();
    let diff = reference.max_abs_diff(&hidden);
    println!("tiny_roberta: max |burn - transformers| over real tokens = {diff:e}");
    assert!(diff <= TOLERANCE, "max abs diff {diff:e} > {TOLERANCE:e}");
}

/// Padding must not leak into real tokens: a row run alone equals the same row in the batch.
#[test]
fn padding_does_not_change_real_tokens() {
    let dir = fixtures().join("tiny_roberta");
    let device = Default::default();
    let (encoder, _) = load_pretrained::<B>(&dir, &device).unwrap_or_else(|e| panic!("{e:?}"));
    let reference = Reference::read(&dir.join("reference.safetensors"));
    let batched = encoder.forward(reference.input(&device));

    let mask = reference
        .attention_mask
        .clone()
        .convert::<i64>()
        .to_vec::<i64>()
        .expect("mask");
    let seq = reference.attention_mask.shape[1];
    let row = 1;
    let len = mask[row * seq..(row + 1) * seq]
        .iter()
        .filter(|&&m| m == 1)
        .count();
    let input = reference.input(&device);
    let alone = EncoderInput {
        input_ids: input.input_ids.slice([row..row + 1, 0..len]),
        token_type_ids: input.token_type_ids.slice([row..row + 1, 0..len]),
        attention_mask: input.attention_mask.slice([row..row + 1, 0..len]),
    };
    let alone = encoder.forward(alone);
    let in_batch = batched.slice([row..row + 1, 0..len]);
    let diff: f32 = (alone - in_batch).abs().max().into_scalar();
    assert!(diff <= 1e-5, "padding changed real tokens by {diff:e}");
}
